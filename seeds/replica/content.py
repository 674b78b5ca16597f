"""Deterministic generator of realistic reply letters and S&T policy texts.

Everything is drawn from ``random.Random`` seeded with a fixed string, so the replica, its manifest
and the benchmarks see the same corpus on every machine.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "建国志强秀英丽华明海军红平伟芳敏静磊洋勇艳杰娟涛超霞刚桂英玉兰德福庆云坤丕奇保余庆宏斌翠萍晓东晓梅春雷国栋立新卫东振华学军永刚淑珍凤兰俊杰海燕文静"

TOPICS = [
    ("加强科技创新平台体系建设", "科技创新平台"),
    ("加快高新技术企业培育", "高新技术企业"),
    ("促进科技成果转移转化", "科技成果转化"),
    ("引导企业加大研发投入", "研发投入"),
    ("完善科技人才引进和培养机制", "科技人才"),
    ("发展科技金融破解中小企业融资难题", "科技金融"),
    ("推进农业科技创新和科技特派员工作", "农业科技"),
    ("强化知识产权保护和运用", "知识产权"),
    ("深化产学研合作", "产学研合作"),
    ("支持科技型中小企业发展", "科技型中小企业"),
    ("推动数字经济与实体经济深度融合", "数字经济"),
    ("加快科技企业孵化器和众创空间建设", "孵化载体"),
    ("加强基层科普工作", "科学普及"),
    ("建设区域科技创新中心", "区域创新"),
    ("优化科技项目和经费管理", "科研经费管理"),
    ("推进医疗卫生领域科技创新", "医疗科技"),
    ("支持石化及精细化工产业技术攻关", "产业技术攻关"),
    ("提升高新区创新发展水平", "高新区"),
    ("加强养老服务和社会福利领域的技术应用", "社会福利科技"),
    ("完善新型研发机构扶持政策", "新型研发机构"),
]

# Sentence pools. {k} is the topic keyword, {org} the replying body, {y} a year, {n}/{m} numbers.
OPENING = [
    "首先,非常感谢您对我市科技工作的关心和支持。",
    "您的建议对我们做好相关工作具有重要的指导意义,我局高度重视,组织相关科室认真研究。",
    "经与市财政局、市发展改革委共同研究办理,现将办理情况答复如下:",
    "我们认真研究了您的建议,结合工作实际,现答复如下:",
]
FACTS = [
    "{y}年,全市共认定高新技术企业{n}家,同比增长{p}%,科技型中小企业入库{m}家。",
    "我市设立市级科技创新发展资金,{y}年安排资金{a}万元,重点支持{k}相关项目。",
    "全社会研究与开发(R&D)经费投入占地区生产总值(GDP)比重达到{d}%,位居全省前列。",
    "围绕{k},我局先后出台《关于加快{k}发展的若干措施》《{k}专项资金管理办法》等政策文件。",
    "{y}年组织实施重大科技专项{n}项,争取省级以上科技资金{a}万元,带动企业研发投入{m}亿元。",
    "通过视频会议方式召开全市{k}工作推进会,对重点任务逐项调度,确保各项措施落地见效。",
    "统筹使用福利彩票公益金和财政资金,支持社区科普设施和养老服务智能化改造。",
    "会同民政部门推动社会福利机构应用远程医疗和智能看护技术,惠及老年人{n}余人次。",
    "建成省级以上重点实验室、技术创新中心等创新平台{n}个,其中国家级平台{p}个。",
    "累计发放科技成果转化贷款{a}万元,新旧动能转换创投基金投资科技型企业{n}家。",
    "依托大连理工大学、中国科学院等高校院所,组建产业技术研究院{p}家,转化科技成果{n}项。",
    "开展“科技特派员进企业”活动,选派科技特派员{n}名,服务企业和农业经营主体{m}家。",
    "举办科技活动周、创新创业大赛等活动{n}场次,营造鼓励创新、宽容失败的良好氛围。",
    "对新认定的高新技术企业给予一次性奖补资金{p}万元,{y}年共兑现奖补资金{a}万元。",
    "推行科研项目经费“包干制”试点,赋予科研人员更大的技术路线决定权和经费使用权。",
    "建立企业研发费用归集统计定期调度机制,{n}家企业享受研发费用加计扣除政策。",
    "实施“{k}”三年行动计划({y}—{y2}年),明确了目标任务、责任分工和保障措施。",
    "全市技术合同成交额达到{a}万元,同比增长{p}%,技术市场活跃度明显提升。",
]
NEXT = [
    "下一步,我们将认真吸纳您的建议,进一步加大{k}工作力度,推动各项政策落地见效。",
    "下一步,我局将会同有关部门,持续完善{k}支持政策,强化要素保障和服务保障。",
    "今后,我们将学习借鉴先进地区经验做法,加快构建更加完善的{k}工作体系。",
]
HEADINGS = ["一、关于{k}的工作情况", "二、存在的主要问题", "三、下一步工作打算", "四、保障措施"]
CLOSING = [
    "再次感谢您对我市科技创新工作的关心和支持!欢迎继续提出宝贵意见和建议。",
    "特此答复。",
    "感谢您对我们工作的关心和支持!",
]

POLICY_NAMES = [
    "关于推进科技创新加快高质量发展的实施意见",
    "科技型中小企业培育三年行动计划",
    "科技成果转移转化专项资金管理办法",
    "关于加强新型研发机构建设的若干措施",
    "高新技术企业认定奖补实施细则",
    "科技企业孵化器和众创空间认定管理办法",
    "关于深化科技体制改革的实施方案",
    "科技创新券管理暂行办法",
    "关于支持企业建设研发机构的若干政策",
    "重点实验室建设与运行管理办法",
]
POLICY_SECTIONS = [
    ("总体要求", [
        "以习近平新时代中国特色社会主义思想为指导,深入实施创新驱动发展战略,以{k}为重点,强化企业创新主体地位。",
        "到{y2}年,全市{k}体系更加完善,科技支撑经济社会发展能力显著增强。",
    ]),
    ("重点任务", [
        "(一)培育创新主体。实施高新技术企业倍增计划,每年新增高新技术企业{n}家以上。",
        "(二)建设创新平台。围绕主导产业布局建设重点实验室和技术创新中心{p}个。",
        "(三)促进成果转化。完善技术转移服务体系,每年转化科技成果{n}项以上。",
        "(四)集聚创新人才。引进高层次创新创业团队{p}个,对符合条件的人才给予最高{a}万元资助。",
    ]),
    ("保障措施", [
        "(一)加强组织领导。各地区、各部门要把{k}摆在突出位置,明确责任分工。",
        "(二)强化资金保障。市财政每年安排专项资金{a}万元,对重点任务予以优先保障。",
        "(三)加强督促检查。建立工作台账,定期调度进展情况,确保各项任务落到实处。",
    ]),
]
POLICY_TAIL = "本{kind}自印发之日起施行,有效期{p}年。"


@dataclass
class Letter:
    """A generated document before it is rendered: title, body paragraphs and gold facts."""
    title: str
    paragraphs: list[str]
    reply: dict | None = None
    doc_no: str | None = None
    signer: str = ""
    signed: str = ""
    extra: dict = field(default_factory=dict)


def name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def cn_date(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{int(y)}年{int(m)}月{int(d)}日"


def _fill(rng: random.Random, text: str, k: str, year: int) -> str:
    return text.format(
        k=k, y=year - 1, y2=year + 2, n=rng.randint(12, 480), m=rng.randint(20, 900),
        p=rng.randint(2, 35), a=rng.randint(100, 9000), d=f"{rng.uniform(1.5, 3.2):.2f}",
    )


def reply_letter(rng: random.Random, *, role: str, number: str, session: str, kind: str,
                 signer: str, signed_iso: str, title: str, topic: tuple[str, str],
                 addressee: str, salute: str) -> Letter:
    """A reply to a legislator's suggestion (建议) or a political-advisor's proposal (提案)."""
    full, k = topic
    year = int(signed_iso[:4])
    noun = "提案" if kind == "cppcc_proposal" else "建议"
    paras = [salute.format(name=addressee, role=role)]
    paras.append(f"您提出的《关于{full}的{noun}》(第{number}号)已收悉。" + rng.choice(OPENING))
    for h in HEADINGS[: rng.randint(2, 4)]:
        paras.append(_fill(rng, h, k, year))
        for _ in range(rng.randint(1, 2)):
            paras.append("".join(_fill(rng, s, k, year) for s in rng.sample(FACTS, rng.randint(2, 4))))
    paras.append(_fill(rng, rng.choice(NEXT), k, year))
    paras.append(rng.choice(CLOSING))
    paras += [signer, cn_date(signed_iso)]
    reply = {"kind": kind, "addressee": addressee, "number": number, "session": session,
             "signer": signer, "signed_date": signed_iso}
    return Letter(title=title, paragraphs=paras, reply=reply, signer=signer, signed=signed_iso)


def policy_text(rng: random.Random, *, issuer: str, doc_no: str, signed_iso: str, policy: str,
                addressees: str) -> Letter:
    """A notice issuing an S&T policy, followed by the policy text itself."""
    k = rng.choice(TOPICS)[1]
    year = int(signed_iso[:4])
    kind = "办法" if policy.endswith("办法") else ("细则" if policy.endswith("细则") else "意见")
    paras = [addressees,
             f"经市政府同意,现将《{policy}》印发给你们,请结合实际认真贯彻执行。",
             issuer, cn_date(signed_iso), policy]
    for i, (head, sents) in enumerate(POLICY_SECTIONS):
        paras.append("一二三四"[i] + "、" + head)
        paras += [_fill(rng, s, k, year) for s in sents]
    paras.append(_fill(rng, POLICY_TAIL.replace("{kind}", kind), k, year))
    title = f"{issuer}关于印发{policy}的通知" if not policy.startswith("关于") else f"{issuer}印发{policy}的通知"
    return Letter(title=title, paragraphs=paras, doc_no=doc_no, signer=issuer, signed=signed_iso)


# Junk that spam mirrors inject (portals.md section 6). The generator composes fresh lines from
# these parts, so the extractor is tested on lines it has never seen verbatim.
SPAM_PARTS = [
    "国产精品", "无码", "一区二区三区", "亚洲", "欧美", "日韩", "人妻少妇", "久久", "AV天堂", "精品视频",
    "在线观看", "免费视频", "午夜福利", "麻豆", "91", "羞羞视频", "制服丝袜", "中文字幕", "高清无码",
    "影院", "即时比分", "体育直播", "球迷网", "澳门", "棋牌", "真人娱乐", "成人", "伦理片", "偷拍",
]
SPIDER_POOL_PLACES = "尉氏县 舒兰市 彝良县 洪洞县 平阴县 临泉县 蓬溪县 方城县 庐江县 安塞县 磐石市 富锦市 望奎县 柘城县".split()


def spam_line(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(3, 6)):
        parts.append("".join(rng.sample(SPAM_PARTS, rng.randint(2, 4))))
    return rng.choice([",", "_", " ", "|"]).join(parts)


def spider_pool_footer(rng: random.Random) -> str:
    return "主站蜘蛛池模板: " + "| ".join(rng.sample(SPIDER_POOL_PLACES, 8))


def random_id(rng: random.Random) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(5))
