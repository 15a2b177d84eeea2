"""The service taxonomy of T/JHSX 001—2026 §7 (服务内容), as data.

Every intervention, group, class and letter is tagged with one or more of these codes; a school's
compliance report shows which "shall" (应) items were delivered in a period. Labels travel in both
languages because the people who read the records read Chinese.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Obligation = Literal["shall", "should", "may"]


@dataclass(frozen=True)
class ServiceCode:
    code: str
    obligation: Obligation  # 应 shall, 宜 should, 可 may
    label_zh: str
    label_en: str
    section_zh: str
    section_en: str


_S1 = ("学生服务·社会支持与资源链接", "Students: social support and resource linking")
_S2 = ("学生服务·关系协调与社会实践", "Students: relationships and social practice")
_S3 = ("学生服务·自我认知与行为调适", "Students: self-awareness and behaviour adjustment")
_S4 = ("学生服务·身心健康和生命安全", "Students: physical and mental health, life safety")
_T = ("教师服务", "Teachers")
_SC = ("学校服务", "Schools")
_F = ("家庭服务", "Families")
_C = ("社区联动服务", "Community")

SERVICE_CODES: tuple[ServiceCode, ...] = (
    ServiceCode(
        "7.1.1a",
        "shall",
        "经济支持、社会救助、学业支持、交际能力锻炼",
        "Support for students in difficulty: financial support, social assistance, "
        "study support, social-skills practice",
        *_S1,
    ),
    ServiceCode(
        "7.1.1b",
        "should",
        "为困境学生链接社会资源",
        "Link social resources for students in difficulty",
        *_S1,
    ),
    ServiceCode(
        "7.1.2a",
        "shall",
        "人际关系辅导（朋辈、家长、教师）",
        "Interpersonal guidance with peers, parents, teachers",
        *_S2,
    ),
    ServiceCode("7.1.2b", "should", "组织学生参与社会实践", "Organise social practice", *_S2),
    ServiceCode(
        "7.1.2c",
        "should",
        "残障学生社会融合",
        "Social inclusion of students with disabilities",
        *_S2,
    ),
    ServiceCode("7.1.2d", "may", "班级团队文化建设", "Class team-culture building", *_S2),
    ServiceCode("7.1.2e", "may", "指导学生参与社团活动", "Guide students in clubs", *_S2),
    ServiceCode("7.1.3a", "shall", "科学管理情绪", "Emotion management", *_S3),
    ServiceCode("7.1.3b", "shall", "适应学校环境", "Adapting to school", *_S3),
    ServiceCode(
        "7.1.3c",
        "shall",
        "偏差行为预防与矫正，培养良好习惯",
        "Prevention and correction of deviant behaviour, good habits",
        *_S3,
    ),
    ServiceCode("7.1.3d", "should", "职业生涯辅导", "Career guidance", *_S3),
    ServiceCode(
        "7.1.3e", "may", "自我欣赏、自我探索", "Self-appreciation and self-exploration", *_S3
    ),
    ServiceCode(
        "7.1.4a",
        "shall",
        "遭受威胁、虐待、暴力学生的保护性服务",
        "Protective services for students facing threat, abuse or violence",
        *_S4,
    ),
    ServiceCode(
        "7.1.4b",
        "shall",
        "严重心理障碍学生的转介或资源链接",
        "Referral or resource linking for severe psychological disorders",
        *_S4,
    ),
    ServiceCode(
        "7.1.4c",
        "shall",
        "心理疏导、情绪支持",
        "Psychological counselling and emotional support",
        *_S4,
    ),
    ServiceCode(
        "7.1.4d",
        "should",
        "自我保护教育、生命教育、安全教育",
        "Self-protection, life and safety education",
        *_S4,
    ),
    ServiceCode(
        "7.2a",
        "shall",
        "咨询辅导、情绪疏导、压力缓解",
        "Teachers: counselling, emotional relief, stress relief",
        *_T,
    ),
    ServiceCode(
        "7.2b", "shall", "协助解决师生冲突、矛盾", "Help resolve teacher–student conflict", *_T
    ),
    ServiceCode("7.2c", "shall", "传授社会工作相关知识", "Teach social-work knowledge", *_T),
    ServiceCode(
        "7.3a",
        "shall",
        "搭建家—校—社联动资源支持网络",
        "Build the family–school–community resource network",
        *_SC,
    ),
    ServiceCode(
        "7.3b",
        "shall",
        "协助学校处理校园危机和突发事件",
        "Help the school handle campus crises and emergencies",
        *_SC,
    ),
    ServiceCode(
        "7.3c",
        "should",
        "思想引导（爱国主义教育、理想信念教育）",
        "Ideological guidance (patriotic, ideals and beliefs education)",
        *_SC,
    ),
    ServiceCode(
        "7.4a",
        "shall",
        "咨询辅导、亲职辅导、亲子关系辅导",
        "Families: counselling, parenting guidance, parent–child relationship guidance",
        *_F,
    ),
    ServiceCode(
        "7.4b",
        "shall",
        "情绪疏导、心理支持、资源链接",
        "Families: emotional relief, psychological support, resource linking",
        *_F,
    ),
    ServiceCode(
        "7.4c",
        "shall",
        "促进家长与教师、学校之间良性关系互动",
        "Families: good relations between parents, teachers and school",
        *_F,
    ),
    # 7.5 has no 应/宜/可 of its own; CLAUSES.md reads its two items as "shall".
    ServiceCode(
        "7.5.1",
        "shall",
        "链接社区资源，开展社区教育实践活动",
        "Community: link community resources, community education activities",
        *_C,
    ),
    ServiceCode(
        "7.5.2",
        "shall",
        "构建社会支持网络，引导社会各界关注学生及教育相关议题",
        "Community: build the social support network, draw attention to students' issues",
        *_C,
    ),
)

BY_CODE: dict[str, ServiceCode] = {item.code: item for item in SERVICE_CODES}
SHALL_CODES: frozenset[str] = frozenset(i.code for i in SERVICE_CODES if i.obligation == "shall")
