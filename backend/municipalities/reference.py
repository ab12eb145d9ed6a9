"""The 59 municipalities of Fukushima prefecture (総務省 全国地方公共団体コード).

Codes are the 5-digit JIS X 0402 form without check digit (07202), the form every record
of Kizuna carries; the 6-digit form with check digit (072028) is derived by ``with_check_digit``.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFECTURE_CODE = "07"


@dataclass(frozen=True, slots=True)
class MunicipalityRef:
    code: str
    name_ja: str
    name_kana: str
    name_en: str


FUKUSHIMA: tuple[MunicipalityRef, ...] = (
    MunicipalityRef("07201", "福島市", "ふくしまし", "Fukushima"),
    MunicipalityRef("07202", "会津若松市", "あいづわかまつし", "Aizuwakamatsu"),
    MunicipalityRef("07203", "郡山市", "こおりやまし", "Koriyama"),
    MunicipalityRef("07204", "いわき市", "いわきし", "Iwaki"),
    MunicipalityRef("07205", "白河市", "しらかわし", "Shirakawa"),
    MunicipalityRef("07207", "須賀川市", "すかがわし", "Sukagawa"),
    MunicipalityRef("07208", "喜多方市", "きたかたし", "Kitakata"),
    MunicipalityRef("07209", "相馬市", "そうまし", "Soma"),
    MunicipalityRef("07210", "二本松市", "にほんまつし", "Nihonmatsu"),
    MunicipalityRef("07211", "田村市", "たむらし", "Tamura"),
    MunicipalityRef("07212", "南相馬市", "みなみそうまし", "Minamisoma"),
    MunicipalityRef("07213", "伊達市", "だてし", "Date"),
    MunicipalityRef("07214", "本宮市", "もとみやし", "Motomiya"),
    MunicipalityRef("07301", "桑折町", "こおりまち", "Koori"),
    MunicipalityRef("07303", "国見町", "くにみまち", "Kunimi"),
    MunicipalityRef("07308", "川俣町", "かわまたまち", "Kawamata"),
    MunicipalityRef("07322", "大玉村", "おおたまむら", "Otama"),
    MunicipalityRef("07342", "鏡石町", "かがみいしまち", "Kagamiishi"),
    MunicipalityRef("07344", "天栄村", "てんえいむら", "Ten-ei"),
    MunicipalityRef("07362", "下郷町", "しもごうまち", "Shimogo"),
    MunicipalityRef("07364", "檜枝岐村", "ひのえまたむら", "Hinoemata"),
    MunicipalityRef("07367", "只見町", "ただみまち", "Tadami"),
    MunicipalityRef("07368", "南会津町", "みなみあいづまち", "Minamiaizu"),
    MunicipalityRef("07402", "北塩原村", "きたしおばらむら", "Kitashiobara"),
    MunicipalityRef("07405", "西会津町", "にしあいづまち", "Nishiaizu"),
    MunicipalityRef("07407", "磐梯町", "ばんだいまち", "Bandai"),
    MunicipalityRef("07408", "猪苗代町", "いなわしろまち", "Inawashiro"),
    MunicipalityRef("07421", "会津坂下町", "あいづばんげまち", "Aizubange"),
    MunicipalityRef("07422", "湯川村", "ゆがわむら", "Yugawa"),
    MunicipalityRef("07423", "柳津町", "やないづまち", "Yanaizu"),
    MunicipalityRef("07444", "三島町", "みしままち", "Mishima"),
    MunicipalityRef("07445", "金山町", "かねやままち", "Kaneyama"),
    MunicipalityRef("07446", "昭和村", "しょうわむら", "Showa"),
    MunicipalityRef("07447", "会津美里町", "あいづみさとまち", "Aizumisato"),
    MunicipalityRef("07461", "西郷村", "にしごうむら", "Nishigo"),
    MunicipalityRef("07464", "泉崎村", "いずみざきむら", "Izumizaki"),
    MunicipalityRef("07465", "中島村", "なかじまむら", "Nakajima"),
    MunicipalityRef("07466", "矢吹町", "やぶきまち", "Yabuki"),
    MunicipalityRef("07481", "棚倉町", "たなぐらまち", "Tanagura"),
    MunicipalityRef("07482", "矢祭町", "やまつりまち", "Yamatsuri"),
    MunicipalityRef("07483", "塙町", "はなわまち", "Hanawa"),
    MunicipalityRef("07484", "鮫川村", "さめがわむら", "Samegawa"),
    MunicipalityRef("07501", "石川町", "いしかわまち", "Ishikawa"),
    MunicipalityRef("07502", "玉川村", "たまかわむら", "Tamakawa"),
    MunicipalityRef("07503", "平田村", "ひらたむら", "Hirata"),
    MunicipalityRef("07504", "浅川町", "あさかわまち", "Asakawa"),
    MunicipalityRef("07505", "古殿町", "ふるどのまち", "Furudono"),
    MunicipalityRef("07521", "三春町", "みはるまち", "Miharu"),
    MunicipalityRef("07522", "小野町", "おのまち", "Ono"),
    MunicipalityRef("07541", "広野町", "ひろのまち", "Hirono"),
    MunicipalityRef("07542", "楢葉町", "ならはまち", "Naraha"),
    MunicipalityRef("07543", "富岡町", "とみおかまち", "Tomioka"),
    MunicipalityRef("07544", "川内村", "かわうちむら", "Kawauchi"),
    MunicipalityRef("07545", "大熊町", "おおくままち", "Okuma"),
    MunicipalityRef("07546", "双葉町", "ふたばまち", "Futaba"),
    MunicipalityRef("07547", "浪江町", "なみえまち", "Namie"),
    MunicipalityRef("07548", "葛尾村", "かつらおむら", "Katsurao"),
    MunicipalityRef("07561", "新地町", "しんちまち", "Shinchi"),
    MunicipalityRef("07564", "飯舘村", "いいたてむら", "Iitate"),
)


def with_check_digit(code: str) -> str:
    """The 6-digit 全国地方公共団体コード (JIS X 0402 code plus its modulus-11 check digit)."""
    if len(code) != 5 or not code.isdigit():
        raise ValueError(f"not a 5-digit municipality code: {code!r}")
    total = sum(int(d) * w for d, w in zip(code, (6, 5, 4, 3, 2), strict=True))
    # 11 - remainder, keeping its last digit: remainder 0 gives 1, remainder 1 gives 0.
    return f"{code}{(11 - total % 11) % 10}"


def normalize_code(code: str) -> str | None:
    """A 5-digit code from a 5- or 6-digit input (the 6th being a valid check digit), else None."""
    code = code.strip()
    if len(code) == 5 and code.isdigit():
        return code
    if len(code) == 6 and code.isdigit() and with_check_digit(code[:5]) == code:
        return code[:5]
    return None
