"""Words of the synthetic county: names, topics and remarks as a ledger would show them.

Everything here is invented. Citizen identifiers are built elsewhere and always start
with ``199`` so nobody mistakes them for real phone numbers.
"""

from __future__ import annotations

from typing import Final

NANSHA_COUNTY_ID: Final = "440115"

# Nansha district's streets (街道) and towns (镇); other counties get numbered towns.
NANSHA_TOWNSHIPS: Final[tuple[tuple[str, bool], ...]] = (
    ("南沙街道", True),
    ("珠江街道", True),
    ("龙穴街道", True),
    ("万顷沙镇", False),
    ("横沥镇", False),
    ("黄阁镇", False),
    ("东涌镇", False),
    ("大岗镇", False),
    ("榄核镇", False),
)

VILLAGE_HEADS: Final = "东西南北新大小上下沙海岭塘涌围洲滘冲坑庆兴合福民义和长永联保"
VILLAGE_TAILS: Final = "涌围沙岗洲头尾坑湾塘滘基沥垦安丰胜利隆盛和平宁乐富"

SURNAMES: Final = (
    "李王张刘陈杨黄赵吴周徐孙马朱胡郭何林罗梁谢宋郑冯"
    + "邓曾彭萧蔡潘田董袁于余叶蒋杜苏魏程吕丁沈任姚卢傅钟"
)
GIVEN_CHARS: Final = (
    "明华伟芳娜敏静丽强磊军洋勇艳杰娟涛超秀霞平刚桂英文辉建国志红玉兰晓东海燕雪梅嘉欣浩然子轩思远"
)

LAW_FIRMS: Final = (
    "广东南沙律师事务所",
    "广东明珠律师事务所",
    "广东海港律师事务所",
    "广东信德律师事务所",
    "广东法正律师事务所",
    "广东合众律师事务所",
    "广东民安律师事务所",
    "广东湾区律师事务所",
)

LECTURE_TOPICS: Final = (
    "《民法典》婚姻家庭编讲座",
    "防范电信网络诈骗",
    "防范非法集资",
    "《未成年人保护法》进社区",
    "《土地管理法》与宅基地",
    "劳动合同与欠薪维权",
    "宪法宣传周专题讲座",
    "禁毒法治宣传",
    "老年人赡养与继承",
    "农村土地承包经营权流转",
    "《反家庭暴力法》解读",
    "消费者权益保护",
)

CONSULTATION_TOPICS: Final = (
    "土地承包经营权流转",
    "宅基地使用权纠纷",
    "婚姻家庭与离婚财产",
    "劳动报酬追索",
    "工伤认定与赔偿",
    "民间借贷纠纷",
    "遗产继承",
    "交通事故赔偿",
    "征地拆迁补偿",
    "赡养老人义务",
    "物业服务纠纷",
    "租赁合同纠纷",
    "消费维权",
    "邻里相邻关系",
)

DISPUTE_TYPES: Final = (
    "邻里纠纷",
    "婚姻家庭纠纷",
    "土地权属纠纷",
    "劳动争议",
    "合同纠纷",
    "损害赔偿纠纷",
    "宅基地纠纷",
    "物业纠纷",
)

DOCUMENT_KINDS: Final = (
    "民事起诉状",
    "借款合同",
    "遗嘱",
    "赡养协议",
    "租赁合同",
    "劳动仲裁申请书",
    "离婚协议书",
    "人民调解协议书",
    "律师函",
)

COMMITTEE_SUBJECTS: Final = (
    "村集体土地租赁合同审查",
    "村规民约修订",
    "集体经济组织章程审查",
    "村道工程施工合同审查",
    "征地补偿分配方案",
    "鱼塘承包合同续签",
    "村务公开制度完善",
    "集体资产处置程序",
)

COMMENTS_BY_SCORE: Final[dict[int, tuple[str, ...]]] = {
    5: ("讲得很清楚", "非常耐心", "解答专业", "服务热情", "帮了大忙"),
    4: ("不错", "挺好的", "解答及时"),
    3: ("一般", "还可以"),
    2: ("回复太慢", "不太满意"),
    1: ("没有解决问题", "态度差"),
}

COMPLAINT_SUMMARIES: Final = (
    "约定的值班时间未到岗",
    "微信咨询三天未回复",
    "调解时态度生硬",
    "法律意见前后矛盾",
    "讲座临时取消未通知",
)

UNFOUNDED_COMPLAINT_SUMMARIES: Final = (
    "认为调解结果不公",
    "对法律意见不满意",
)

VOID_REASONS: Final = {
    "duplicate_duty": "台账重复录入 (duplicate ledger entry)",
    "test_rating": "评价器调试数据 (evaluator device test)",
    "duplicate_inspection": "检查记录重复录入 (inspection recorded twice)",
}
