"""ZAKER (myzaker.com), which also carries Xinhua's photo stories.

Photos sit in ``div.img_box > div.content_img_div`` wrappers with ``onclick`` handlers, the real
URL in ``data-original`` and ``src`` behind a CORS proxy; captions follow as bare text marked ↑.
"""

RULE_DATA = {
    "name": "zaker",
    "hosts": ("myzaker.com", "zaker.cn"),
    "hints": ("ZAKER",),
    # Share bars, "open in app" prompts and the like that the app pages carry.
    "remove": ("div.share_box", "div.open_app", "div.article_tips", "div.zaker_ad"),
    # The photo wrappers: unwrapped so that neighbouring photos form one group.
    "unwrap": ("div.img_box", "div.content_img_div"),
}
