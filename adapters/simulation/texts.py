"""Vocabulary for names, notes and transcripts, in Chinese and English."""

# Chinese text is punctuated with full-width commas and colons on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import random

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = (
    "伟",
    "娜",
    "芳",
    "敏",
    "静",
    "磊",
    "强",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "涛",
    "明",
    "超",
    "秀英",
    "晓东",
    "志强",
    "海燕",
    "建国",
    "丽华",
    "俊杰",
)
FIRST = (
    "James",
    "Emma",
    "Oliver",
    "Sophia",
    "Liam",
    "Mia",
    "Noah",
    "Grace",
    "Lucas",
    "Chloe",
    "Ethan",
    "Amy",
    "Daniel",
    "Helen",
    "Kevin",
    "Linda",
)
LAST = ("Smith", "Chen", "Wong", "Taylor", "Brown", "Lee", "Walker", "Tan", "Clark", "Ng")
CITIES = ("上海", "深圳", "杭州", "苏州", "北京", "广州", "成都", "南京", "天津", "重庆", "武汉", "宁波")
TRADES = ("精密", "智能", "新能源", "华信", "远航", "恒通", "金桥", "博远", "星辰", "鼎盛")
SUFFIXES = ("科技有限公司", "制造有限公司", "集团股份有限公司", "物流有限公司", "医疗器械有限公司")
EN_NAMES = ("Apex", "Northwind", "Bluefin", "Harbor", "Summit", "Crescent", "Ironwood", "Lumen")
EN_SUFFIXES = ("Robotics Ltd", "Logistics Co.", "Retail Group", "Energy Holdings", "Foods Ltd")
INDUSTRIES = (
    "manufacturing",
    "retail",
    "energy",
    "logistics",
    "healthcare",
    "finance",
    "automotive",
    "education",
)
TAGS = (
    "strategic",
    "price_sensitive",
    "expanding",
    "public_sector",
    "multi_site",
    "at_risk",
    "reference_customer",
    "new_logo",
)
TITLES = (
    "CIO",
    "CTO",
    "IT经理",
    "采购经理",
    "Procurement Lead",
    "Plant Manager",
    "财务总监",
    "Operations Director",
    "总经理",
    "VP Engineering",
)
AUDIENCES = ("CTO", "CIO", "IT manager", "采购经理", "plant engineers", "财务总监")
PRODUCT_LINES = ("PLC", "SCADA", "MES", "WMS", "EdgeGateway", "CloudHistorian")
COMPETITORS = ("Siemens", "Rockwell", "汇川", "和利时", "Schneider")
LOSS_REASONS = ("price", "competitor", "budget_cut", "no_decision", "timing", "requirements_mismatch")
CANCEL_REASONS = ("customer", "credit_check_failed", "duplicate", "scope_change")
REJECT_REASONS = ("资源不足", "scope unclear", "合同条款风险", "delivery capacity full", "缺少技术方案")
NOTES = (
    "客户关注价格，预算约{n}万，需要准备分期方案",
    "竞品{c}报价低15%，下周提交对比材料",
    "决策人是{title}，安排高层拜访",
    "Budget confirmed at about {n}0k; decision maker is the {title}",
    "Competitor {c} is in the deal; price pressure expected",
    "采购流程需要三家比价，预计下月决策",
    "Asked for a discount before the board meeting; follow up with references",
)
LINES_ZH = (
    "客户：今年预算大概{n}万，价格能不能再谈？",
    "销售：我们可以按阶段交付，首付比例可以商量。",
    "客户：{c}也在报价，他们便宜不少。",
    "客户：最后要{title}拍板，下周他有空。",
)
LINES_EN = (
    "Customer: our budget this year is roughly {n}0k, can you do better on price?",
    "Rep: we can phase the rollout so the first payment is smaller.",
    "Customer: {c} quoted us lower last week.",
    "Customer: the {title} is the decision maker, he joins next call.",
)
COMPLAINTS = ("交付延期两周", "invoice amount wrong", "售后响应太慢", "installation team missed the slot")


def person_name(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return rng.choice(SURNAMES) + rng.choice(GIVEN)
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def company_name(rng: random.Random) -> str:
    if rng.random() < 0.75:
        return rng.choice(CITIES) + rng.choice(TRADES) + rng.choice(SUFFIXES)
    return f"{rng.choice(EN_NAMES)} {rng.choice(EN_SUFFIXES)}"


def _fill(template: str, rng: random.Random) -> str:
    return template.format(n=rng.randint(5, 300), c=rng.choice(COMPETITORS), title=rng.choice(TITLES))


def note(rng: random.Random) -> str:
    return _fill(rng.choice(NOTES), rng)


def transcript(rng: random.Random) -> str:
    lines = LINES_ZH if rng.random() < 0.6 else LINES_EN
    return "\n".join(_fill(line, rng) for line in rng.sample(lines, 3))
