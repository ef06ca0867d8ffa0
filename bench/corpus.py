"""A deterministic benchmark corpus in the seed article's exact format.

``generate(root, articles=20)`` writes ``root/articles/NNN_<hex>.txt`` (YAML front matter as the
seed's, then the scraped ZAKER body: ``div.img_box`` wrappers with ``onclick``, lazy
``data-original`` URLs behind the CORS proxy, ``↑`` captions as bare text after one or two
photos, empty ``<p></p>``, bare text, a credits block) and, for every image it names, a
photo-like JPEG at the declared size under ``root/images/<host>/…``, where the image server of
:mod:`bench.server` serves it. Everything follows from ``seed``: the same arguments give the same
bytes. A ``manifest.json`` records what was written; a second call with the same arguments and
an intact manifest reuses the files.

It also makes photos for the real seed article (:func:`seed_images`), so that the seed can be
built against the local server too.

Run it alone: ``python bench/corpus.py DIR --articles 20``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import random
import re
import shutil
import sys
from dataclasses import dataclass
from email.utils import format_datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python bench/corpus.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.helpers_corpus import photo_jpeg, seed_images  # noqa: E402 - shared with the tests

#: Hosts of the corpus images; the benchmark rewrites each to its own 127.0.0.1 port.
HOSTS = ("img1.bench.invalid", "img2.bench.invalid")
PROXY = "https://cors.zfour.workers.dev/?"
FORMAT_VERSION = 1

#: Fixed phrases; sentences are drawn from them with a seeded random.
PHRASES = (
    "社区虽小", "却连着千家万户", "基层治理是国家治理的基石", "群众的事无小事",
    "老旧小区改造持续推进", "居民的获得感不断增强", "便民服务中心开门迎客", "志愿者走街串巷",
    "清晨的菜市场人头攒动", "街道干部入户走访", "一老一小是大家最关心的事", "社区食堂飘出饭菜香",
    "乡村振兴的画卷徐徐展开", "稻田里一片金黄", "农民们抢抓农时", "新建的村道通到家门口",
    "孩子们在课后托管班里写作业", "老人们在活动室下棋聊天", "夜幕降临后广场上灯火通明",
    "绿色出行渐成风尚", "河道整治让水清岸绿", "公园里的步道连成一片", "城市更新留住了烟火气",
    "一座座新楼拔地而起", "港口的吊机繁忙作业", "高铁穿山越岭", "工厂车间里机器轰鸣",
    "科研人员埋头攻关", "医护人员守护群众健康", "快递小哥穿梭在大街小巷", "外卖骑手风雨无阻",
    "非遗传承人手把手教学", "博物馆里人潮涌动", "古城墙下游人如织", "草原上牛羊成群",
    "雪山脚下的牧民新居落成", "边境口岸车流不息", "渔民满载而归", "果园里硕果累累",
    "茶农忙着采摘春茶", "学生们迎来开学第一课", "图书馆里座无虚席", "运动员在赛场上奋力拼搏",
    "全民健身热潮涌动", "社区网格员走家串户", "调解员化解邻里矛盾", "代办员为村民跑腿",
    "党群服务中心成了居民的家", "大家有事好商量", "议事厅里讨论热烈", "环境整治见到实效",
    "垃圾分类成为新时尚", "加装电梯解了老人的难", "小区里新添了充电桩", "街巷变得整洁有序",
    "群众笑得合不拢嘴", "日子越过越红火", "幸福写在每个人的脸上", "这里的变化看得见摸得着",
    "人们对美好生活充满期待",
)
PLACES = (
    "北京市朝阳区", "上海市浦东新区", "广东省深圳市南山区", "浙江省杭州市余杭区",
    "四川省成都市武侯区", "湖北省武汉市江汉区", "陕西省西安市碑林区", "辽宁省沈阳市皇姑区",
    "新疆乌鲁木齐市天山区", "云南省昆明市五华区", "甘肃省武威市古浪县", "青海省西宁市城西区",
    "江苏省苏州市姑苏区", "河南省邓州市花洲街道", "内蒙古赤峰市喀喇沁旗", "福建省厦门市思明区",
)
TOPICS = (
    "社区工作", "乡村振兴", "城市更新", "基层治理", "民生实事", "绿色发展", "文化传承",
    "科技创新", "交通建设", "医疗服务", "教育公平", "全民健身", "生态保护", "便民服务",
)
NAMES = (
    "袁炳忠", "孙承斌", "邹声文", "刘洁", "郑卫", "兰红光", "赖向东", "王建华", "鱼澜", "毕晓洋",
    "邓坚", "张岩", "戚文娟", "徐亮", "罗晓光", "柳文惠", "程敏", "姚剑锋", "欧东衢", "鞠焕宗",
    "张晨霖", "张宏祥", "赵戈", "连振", "鞠鹏", "李学仁", "谢环驰", "燕雁", "杨磊", "林善传",
)
#: Declared sizes, as on the seed: mostly 1000 or 988 wide, heights from panorama to portrait.
WIDTHS = (1000, 1000, 1000, 988)
HEIGHTS = (425, 542, 616, 666, 667, 682, 686, 700, 744, 760, 824, 928, 1007, 1019, 1279)


@dataclass(frozen=True)
class Photo:
    url: str         # the real (data-original) URL
    path: str        # relative to the corpus root: images/<host>/<yyyymm>/<name>.jpg
    width: int
    height: int
    seed: int


def _sentence(rng: random.Random, lo: int = 2, hi: int = 4) -> str:
    return "，".join(rng.sample(PHRASES, rng.randint(lo, hi))) + "。"


def _date(rng: random.Random) -> str:
    d = dt.date(2018, 1, 1) + dt.timedelta(days=rng.randrange(365 * 5))
    return f"{d.year} 年 {d.month} 月 {d.day} 日"


def _caption(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"↑{_date(rng)}，{rng.choice(PLACES)}，{_sentence(rng, 1, 3)}"
    text = _sentence(rng, 2, 3)
    return f"↑ {rng.choice(PLACES)}{text[:-1]}（{_date(rng)}摄）。"


def _img_box(i: int, photo: Photo) -> str:
    return (f'<div class="img_box" id="id_imagebox_{i}" onclick><div class="content_img_div '
            f'perview_img_div"><img class="lazy opacity_0 " id="img_{i}" '
            f'data-original="{photo.url}" data-height="{photo.height}" '
            f'data-width="{photo.width}" src="{PROXY}{photo.url}" '
            f'referrerpolicy="no-referrer"></div></div>')


def _credits(rng: random.Random) -> str:
    names = lambda n: " ".join(rng.sample(NAMES, n))  # noqa: E731
    return (f"总监制：{names(1)}<p></p><p>监制：{names(2)}</p><p>策划：{names(5)}</p>"
            f"<p>统筹：{names(2)}</p><p>编辑：{names(rng.randint(6, 14))}</p>"
            f"<p>摄影：{names(rng.randint(4, 10))}</p><p>新华社第一工作室出品</p>"
            f"<p>新华社摄影部制作</p>")


def article_text(index: int, seed: int, photos_range: tuple[int, int]
                 ) -> tuple[str, str, list[Photo]]:
    """(file name, file text, photos) of article ``index``; deterministic."""
    rng = random.Random(f"bench-article-{seed}-{index}")
    hexname = f"{rng.getrandbits(64):016x}"
    month = f"2022{rng.randint(1, 12):02d}"
    stem = f"{rng.getrandbits(80):020x}"
    photos = []
    for i in range(rng.randint(*photos_range)):
        host = HOSTS[i % len(HOSTS)]
        name = f"{stem}{i:04x}_1024.jpg"
        photos.append(Photo(url=f"http://{host}/{month}/{name}",
                            path=f"images/{host}/{month}/{name}",
                            width=rng.choice(WIDTHS), height=rng.choice(HEIGHTS),
                            seed=rng.getrandbits(32)))

    parts = ["<div>   \n<p></p>"]
    i = 0
    first = True
    while i < len(photos):
        group = photos[i:i + (2 if rng.random() < 0.3 else 1)]
        parts.extend(_img_box(i + k, p) for k, p in enumerate(group))
        i += len(group)
        if i == len(photos):
            parts.append(_credits(rng))  # the last photo has no caption, as on the seed
            break
        if first:
            parts.append(rng.choice(PHRASES) + "。<p></p>")  # bare text under the first photo
            for _ in range(rng.randint(1, 3)):
                parts.append(f"<p>{_sentence(rng, 3, 6)}</p>")
            parts.append("<p></p>")
            first = False
        elif rng.random() < 0.85:
            parts.append(_caption(rng) + "<p></p><p></p>")
        else:
            parts.append(f"<p>{_sentence(rng, 3, 5)}</p><p></p>")
    parts.append("  \n</div>\n            ")

    phrase, topic = rng.choice(PHRASES), rng.choice(TOPICS)
    title = f"{phrase}丨{topic}{rng.choice(('纪实', '掠影', '见闻', '观察'))}"
    when = dt.datetime(2022, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
        days=index * 3, seconds=rng.randrange(86400))
    cover = f"{PROXY}{photos[0].url}"
    head = ("\n---\n"
            f"title: '{title}'\n"
            "categories: \n - 新媒体\n - ZAKER\n - source\n"
            f"headimg: '{cover}'\n"
            "author: ZAKER\n"
            "comments: false\n"
            f"date: {format_datetime(when, usegmt=True)}\n"
            f"thumbnail: '{cover}'\n"
            "---\n\n")
    return f"{index:03d}_{hexname}.txt", head + "".join(parts), photos


def changed_text(text: str, n: int, paragraphs: int = 1) -> str:
    """The article ``text`` with more paragraphs (one by default) before its end: change
    number ``n``."""
    rng = random.Random(f"bench-change-{n}")
    extra = "".join(f"<p>（更新{n}）{_sentence(rng, 3, 6)}</p>" for _ in range(paragraphs))
    cut = text.rindex("  \n</div>")
    return text[:cut] + extra + text[cut:]


def _manifest_ok(root: Path, params: dict) -> dict | None:
    try:
        manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("params") != params:
        return None
    for name, sha in manifest["articles"].items():
        p = root / "articles" / name
        if not p.is_file() or hashlib.sha256(p.read_bytes()).hexdigest() != sha:
            return None
    for image in manifest["images"]:
        p = root / image["path"]
        if not p.is_file() or p.stat().st_size != image["bytes"]:
            return None
    return manifest


def generate(root: Path, articles: int = 20, photos: tuple[int, int] = (10, 30),
             seed: int = 7) -> dict:
    """Write the corpus under ``root`` (or reuse an identical one); return its manifest:
    ``{"params", "articles": {name: sha256}, "images": [{url, path, bytes, width, height}],
    "image_bytes", "hosts"}``."""
    root = Path(root)
    params = {"version": FORMAT_VERSION, "articles": articles, "photos": list(photos),
              "seed": seed}
    manifest = _manifest_ok(root, params)
    if manifest is not None:
        return manifest
    shutil.rmtree(root / "articles", ignore_errors=True)
    shutil.rmtree(root / "images", ignore_errors=True)
    (root / "articles").mkdir(parents=True)
    manifest = {"params": params, "articles": {}, "images": [], "hosts": list(HOSTS)}
    for index in range(articles):
        name, text, article_photos = article_text(index, seed, photos)
        data = text.encode("utf-8")
        (root / "articles" / name).write_bytes(data)
        manifest["articles"][name] = hashlib.sha256(data).hexdigest()
        for photo in article_photos:
            blob = photo_jpeg(photo.width, photo.height, photo.seed)
            path = root / photo.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(blob)
            manifest["images"].append({"url": photo.url, "path": photo.path, "bytes": len(blob),
                                       "width": photo.width, "height": photo.height})
    manifest["image_bytes"] = sum(i["bytes"] for i in manifest["images"])
    (root / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False),
                                        encoding="utf-8")
    return manifest


def prepare_seed(article: Path, root: Path) -> dict:
    """Copy the seed ``article`` to ``root/articles/`` and write a photo for each of its images
    under ``root/images/<host>/…``; return a manifest like :func:`generate`'s."""
    root = Path(root)
    (root / "articles").mkdir(parents=True, exist_ok=True)
    data = article.read_bytes()
    (root / "articles" / article.name).write_bytes(data)
    manifest = {"params": {"seed_article": article.name}, "images": [],
                "articles": {article.name: hashlib.sha256(data).hexdigest()}, "hosts": []}
    for i, image in enumerate(sorted(seed_images(article), key=lambda d: d["url"])):
        url = image["url"]
        m = re.match(r"^https?://([^/]+)/(.+)$", url)
        host, rest = m.group(1), m.group(2)
        if host not in manifest["hosts"]:
            manifest["hosts"].append(host)
        rel = f"images/{host}/{rest}"
        path = root / rel
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(photo_jpeg(image["width"], image["height"], seed=1000 + i))
        manifest["images"].append({"url": url, "path": rel, "bytes": path.stat().st_size,
                                   "width": image["width"], "height": image["height"]})
    manifest["image_bytes"] = sum(i["bytes"] for i in manifest["images"])
    return manifest


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("root", type=Path)
    p.add_argument("--articles", type=int, default=20)
    p.add_argument("--photos", default="10-30", help="photos per article, MIN-MAX")
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args(argv)
    lo, _, hi = a.photos.partition("-")
    m = generate(a.root, a.articles, (int(lo), int(hi or lo)), a.seed)
    sizes = sorted(i["bytes"] for i in m["images"])
    print(f"{len(m['articles'])} articles, {len(sizes)} photos, {m['image_bytes']:,} bytes "
          f"(median photo {sizes[len(sizes) // 2]:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
