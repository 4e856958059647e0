"""What residents call the things they lose, in Chinese (and the English they mix in).

Each entry is a concept with the words that name it. A word may stand for several concepts
("橘猫" is a cat and orange; "iPhone" is a phone and Apple). Concepts of an *exclusive* facet
(colour, brand, species, breed, bank) contradict each other: a green umbrella is not a blue one.
This is general knowledge about lost property, not a list of any test set's sentences.
"""

from __future__ import annotations

from enum import StrEnum


class Facet(StrEnum):
    ITEM = "item"  # what it is: the strongest evidence
    BRAND = "brand"
    COLOUR = "colour"
    SPECIES = "species"
    BREED = "breed"
    BANK = "bank"
    DETAIL = "detail"  # a material, a pattern, an accessory


EXCLUSIVE = frozenset({Facet.BRAND, Facet.COLOUR, Facet.SPECIES, Facet.BREED, Facet.BANK})

# (facet, concept, category it suggests or "", words)
ENTRIES: tuple[tuple[Facet, str, str, tuple[str, ...]], ...] = (
    # --- phones and electronics ---
    (
        Facet.ITEM,
        "phone",
        "phone",
        ("手机", "电话", "电话机", "智能机", "老人机", "phone", "iphone"),
    ),
    (Facet.ITEM, "tablet", "phone", ("平板", "平板电脑", "ipad", "pad")),
    (Facet.ITEM, "laptop", "phone", ("笔记本电脑", "电脑", "laptop", "macbook", "thinkpad")),
    (Facet.ITEM, "earphones", "phone", ("耳机", "耳麦", "耳塞", "airpods", "耳机盒", "蓝牙耳机")),
    (Facet.ITEM, "charger", "phone", ("充电器", "充电宝", "移动电源", "数据线", "充电线")),
    (Facet.ITEM, "case", "", ("充电盒", "手机壳", "保护壳", "壳")),
    (Facet.ITEM, "watch", "other", ("手表", "腕表", "电子表", "表带", "手环", "watch")),
    (Facet.ITEM, "camera", "phone", ("相机", "照相机", "单反", "摄像机")),
    (Facet.ITEM, "remote", "", ("遥控器", "遥控")),
    # --- keys and cards ---
    (Facet.ITEM, "key", "keys", ("钥匙", "锁匙", "钥匙串", "车钥匙", "key", "keys")),
    (Facet.ITEM, "access_card", "keys", ("门禁卡", "门禁", "门卡", "电梯卡", "门禁扣", "感应卡")),
    (Facet.ITEM, "lock", "keys", ("锁", "车锁", "u型锁")),
    (Facet.ITEM, "id_card", "documents", ("身份证", "居民身份证", "二代证", "id卡")),
    (Facet.ITEM, "bank_card", "wallet", ("银行卡", "储蓄卡", "信用卡", "借记卡", "工资卡")),
    (
        Facet.ITEM,
        "social_card",
        "documents",
        ("社保卡", "社会保障卡", "医保卡", "医疗卡", "就诊卡"),
    ),
    (
        Facet.ITEM,
        "senior_card",
        "documents",
        ("老年卡", "老年优待卡", "老人卡", "敬老卡", "优待卡"),
    ),
    (Facet.ITEM, "transit_card", "documents", ("公交卡", "交通卡", "地铁卡", "一卡通")),
    (Facet.ITEM, "student_card", "documents", ("学生证", "校园卡", "饭卡")),
    (Facet.ITEM, "licence", "documents", ("驾驶证", "驾照", "行驶证")),
    (Facet.ITEM, "passport", "documents", ("护照", "户口本", "港澳通行证", "通行证")),
    (Facet.ITEM, "work_card", "documents", ("工作证", "工牌", "胸牌", "证件")),
    (Facet.ITEM, "card_holder", "", ("卡套", "卡包", "证件套", "卡夹")),
    # --- money ---
    (
        Facet.ITEM,
        "wallet",
        "wallet",
        ("钱包", "皮夹", "皮夹子", "钱夹", "零钱包", "长款钱包", "wallet"),
    ),
    (Facet.ITEM, "cash", "wallet", ("现金", "人民币", "零钱", "钞票", "现钞")),
    # --- bags and clothes ---
    (
        Facet.ITEM,
        "bag",
        "bag",
        ("包", "包包", "背包", "双肩包", "书包", "挎包", "手提包", "单肩包"),
    ),
    (Facet.ITEM, "bag", "bag", ("斜挎包", "腰包", "帆布包", "购物袋", "手提袋", "袋子", "bag")),
    (Facet.ITEM, "suitcase", "bag", ("行李箱", "拉杆箱", "旅行箱")),
    (Facet.ITEM, "coat", "bag", ("外套", "羽绒服", "羽绒外套", "大衣", "夹克", "棉衣", "风衣")),
    (
        Facet.ITEM,
        "clothes",
        "bag",
        ("衣服", "上衣", "衣物", "毛衣", "卫衣", "校服", "衬衫", "裤子"),
    ),
    (Facet.ITEM, "scarf", "bag", ("围巾", "丝巾", "披肩")),
    (Facet.ITEM, "hat", "bag", ("帽子", "鸭舌帽", "毛线帽", "遮阳帽")),
    (Facet.ITEM, "gloves", "bag", ("手套",)),
    (Facet.ITEM, "shoes", "bag", ("鞋", "鞋子", "拖鞋", "运动鞋", "皮鞋")),
    (Facet.ITEM, "belt", "bag", ("皮带", "腰带")),
    # --- everyday things ---
    (Facet.ITEM, "umbrella", "other", ("伞", "雨伞", "折叠伞", "遮阳伞", "太阳伞", "长柄伞")),
    (Facet.ITEM, "glasses", "other", ("眼镜", "老花镜", "近视镜", "近视眼镜", "老花眼镜")),
    (Facet.ITEM, "glasses", "other", ("墨镜", "太阳镜", "镜框", "镜片")),
    (Facet.ITEM, "glasses_case", "other", ("眼镜盒", "眼镜袋")),
    (Facet.ITEM, "ring", "other", ("戒指", "指环", "婚戒")),
    (Facet.ITEM, "necklace", "other", ("项链", "吊坠")),
    (Facet.ITEM, "bracelet", "other", ("手镯", "手链", "镯子")),
    (Facet.ITEM, "earring", "other", ("耳环", "耳钉")),
    (Facet.ITEM, "scooter", "other", ("滑板车", "踏板车")),
    (Facet.ITEM, "bicycle", "other", ("自行车", "单车", "脚踏车")),
    (Facet.ITEM, "ebike", "other", ("电动车", "电瓶车", "电单车", "电驴")),
    (Facet.ITEM, "pram", "other", ("婴儿车", "童车", "推车")),
    (Facet.ITEM, "toy", "other", ("玩具", "玩偶", "公仔", "娃娃")),
    (Facet.ITEM, "pendant", "", ("挂件", "挂饰", "钥匙扣", "吊饰")),
    (Facet.ITEM, "cup", "other", ("水杯", "保温杯", "杯子", "水壶")),
    (Facet.ITEM, "book", "other", ("书", "课本", "作业本", "本子", "笔记本")),
    (Facet.ITEM, "medicine", "other", ("药", "药品", "药盒")),
    (Facet.ITEM, "walking_aid", "other", ("拐杖", "手杖", "助行器", "轮椅")),
    (Facet.ITEM, "hearing_aid", "other", ("助听器",)),
    (Facet.ITEM, "mask", "", ("口罩",)),
    (Facet.ITEM, "tissue", "", ("纸巾", "餐巾纸")),
    # --- animals ---
    (Facet.SPECIES, "cat", "pet", ("猫", "猫咪", "小猫", "猫猫", "橘猫", "狸花", "三花", "布偶")),
    (Facet.SPECIES, "cat", "pet", ("英短", "美短", "暹罗", "加菲")),
    (Facet.SPECIES, "dog", "pet", ("狗", "犬", "小狗", "狗狗", "泰迪", "博美", "金毛", "柯基")),
    (
        Facet.SPECIES,
        "dog",
        "pet",
        ("比熊", "柴犬", "哈士奇", "拉布拉多", "萨摩耶", "雪纳瑞", "土狗"),
    ),
    (Facet.SPECIES, "dog", "pet", ("田园犬", "中华田园犬", "贵宾", "吉娃娃", "边牧", "德牧")),
    (Facet.SPECIES, "bird", "pet", ("鸟", "鹦鹉", "八哥", "画眉")),
    (Facet.SPECIES, "rabbit_pet", "pet", ("宠物兔", "兔兔")),
    (Facet.SPECIES, "turtle", "pet", ("乌龟", "龟")),
    (Facet.BREED, "teddy", "", ("泰迪", "贵宾")),
    (Facet.BREED, "pomeranian", "", ("博美",)),
    (Facet.BREED, "golden", "", ("金毛",)),
    (Facet.BREED, "corgi", "", ("柯基",)),
    (Facet.BREED, "bichon", "", ("比熊",)),
    (Facet.BREED, "shiba", "", ("柴犬",)),
    (Facet.BREED, "husky", "", ("哈士奇",)),
    (Facet.BREED, "labrador", "", ("拉布拉多",)),
    (Facet.BREED, "samoyed", "", ("萨摩耶",)),
    (Facet.BREED, "native_dog", "", ("田园犬", "中华田园犬", "土狗")),
    (Facet.BREED, "tabby", "", ("狸花",)),
    (Facet.BREED, "calico", "", ("三花",)),
    (Facet.BREED, "ragdoll", "", ("布偶",)),
    (Facet.BREED, "british", "", ("英短",)),
    (Facet.DETAIL, "male", "", ("公猫", "公狗", "公的", "男士", "男款", "男式")),
    (Facet.DETAIL, "female", "", ("母猫", "母狗", "母的", "女士", "女款", "女式")),
    (Facet.DETAIL, "child", "", ("儿童", "孩子", "小孩", "宝宝", "童")),
    (Facet.DETAIL, "elderly", "", ("老人", "老年")),
    (Facet.DETAIL, "bell", "", ("铃铛", "铃")),
    (Facet.DETAIL, "collar", "", ("项圈", "狗绳", "牵引绳")),
    (Facet.DETAIL, "rabbit", "", ("兔子", "小兔", "兔")),
    (Facet.DETAIL, "bear", "", ("小熊", "熊")),
    (Facet.DETAIL, "transparent", "", ("透明",)),
    (Facet.DETAIL, "metal", "", ("金属", "铁", "不锈钢")),
    (Facet.DETAIL, "leather", "", ("皮", "真皮", "皮质")),
    (Facet.DETAIL, "string", "", ("绳", "绳子", "挂绳")),
    (Facet.DETAIL, "cracked", "", ("碎", "裂", "裂纹", "碎屏", "裂痕", "划痕")),
    (Facet.DETAIL, "engraved", "", ("刻", "刻字", "刻有")),
    (Facet.DETAIL, "long", "", ("长款", "长柄")),
    (Facet.DETAIL, "folding", "", ("折叠",)),
    # --- brands ---
    (Facet.BRAND, "huawei", "", ("华为", "huawei", "mate", "荣耀", "honor", "nova")),
    (Facet.BRAND, "xiaomi", "", ("小米", "红米", "xiaomi", "redmi")),
    (Facet.BRAND, "apple", "", ("苹果", "apple", "iphone", "ipad", "airpods", "macbook")),
    (Facet.BRAND, "samsung", "", ("三星", "samsung", "galaxy")),
    (Facet.BRAND, "oppo", "", ("oppo",)),
    (Facet.BRAND, "vivo", "", ("vivo",)),
    (Facet.BRAND, "lenovo", "", ("联想", "lenovo", "thinkpad")),
    (Facet.BRAND, "casio", "", ("卡西欧", "casio")),
    (Facet.BRAND, "yadea", "", ("雅迪", "yadea")),
    (Facet.BRAND, "aima", "", ("爱玛",)),
    (Facet.BRAND, "giant", "", ("捷安特", "giant")),
    (Facet.BRAND, "micro", "", ("米高",)),
    (Facet.BANK, "ccb", "", ("建设银行", "建行")),
    (Facet.BANK, "icbc", "", ("工商银行", "工行")),
    (Facet.BANK, "abc", "", ("农业银行", "农行")),
    (Facet.BANK, "boc", "", ("中国银行", "中行")),
    (Facet.BANK, "cmb", "", ("招商银行", "招行")),
    (Facet.BANK, "psbc", "", ("邮政储蓄", "邮储")),
    # --- colours ---
    (Facet.COLOUR, "black", "", ("黑", "黑色", "黑的", "深黑", "black")),
    (Facet.COLOUR, "white", "", ("白", "白色", "白的", "乳白", "white")),
    (Facet.COLOUR, "red", "", ("红", "红色", "红的", "大红", "酒红", "red")),
    (Facet.COLOUR, "blue", "", ("蓝", "蓝色", "蓝的", "深蓝", "浅蓝", "天蓝", "藏青", "blue")),
    (Facet.COLOUR, "green", "", ("绿", "绿色", "绿的", "墨绿", "green")),
    (Facet.COLOUR, "yellow", "", ("黄", "黄色", "黄的", "土黄", "yellow")),
    (Facet.COLOUR, "purple", "", ("紫", "紫色", "紫的", "purple")),
    (Facet.COLOUR, "grey", "", ("灰", "灰色", "灰的", "深灰", "浅灰", "grey", "gray")),
    (Facet.COLOUR, "brown", "", ("棕", "棕色", "褐", "褐色", "咖啡色", "咖色", "brown")),
    (Facet.COLOUR, "pink", "", ("粉", "粉色", "粉红", "粉红色", "pink")),
    (Facet.COLOUR, "orange", "", ("橙", "橙色", "橘", "橘色", "橘黄", "橘猫", "orange")),
    (Facet.COLOUR, "silver", "", ("银", "银色", "银白", "silver")),
    (Facet.COLOUR, "gold", "", ("金", "金色", "金黄", "土豪金", "gold")),
)

# Words that are not what they seem to contain ("银行" is no silver, "蓝牙" no blue, "金属" no gold).
BLOCKERS: tuple[str, ...] = (
    "银行",
    "蓝牙",
    "红绿灯",
    "白天",
    "黑夜",
    "金额",
    "报警",
    "表示",
    "表格",
)

# Report boilerplate that says nothing about the item (removed before comparing the rest).
FILLER: tuple[str, ...] = (
    "捡到", "拾到", "拾获", "捡了", "捡的", "发现", "丢了", "丢失", "遗失", "走失", "走丢", "掉了",
    "不见了", "找不到", "失主", "请联系", "联系", "认领", "没人认领", "有人", "送来", "一部", "一个",
    "一把", "一只", "一副", "一张", "一串", "一件", "一条", "一枚", "一辆", "一台", "一块", "一些",
    "小区", "里面", "里边", "上面", "附近", "旁边", "这里", "那里", "我的", "我们", "谁的", "请",
    "在", "的", "了", "着", "和", "及", "与", "有", "是", "内", "里", "上", "旁", "边", "一",
    "个", "把", "只", "部", "某", "某某", "很", "也", "还", "被", "放", "带",
)  # fmt: skip
