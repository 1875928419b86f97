"""A built-in list of common short English words (the source of ``_unknown_`` words and babble text), and
syllables counted from spelling.

It includes the auxiliary words of Google Speech Commands (bed, bird, cat, ...). Words that sound like a
keyword are removed per corpus (see :mod:`asr_cnn.data.voices.vocabulary`), so the list itself is keyword-free
only by accident.
"""

import re

MIN_SYLLABLES = 2
"""A one-word keyword needs this many syllables to be rare enough in read speech."""

_VOWEL_GROUPS = re.compile(r"[aeiouy]+")

COMMON_WORDS: tuple[str, ...] = tuple("""
about above across act add afraid after again age ago air all almost alone along also always am among
and angry animal answer any apple april arm army around art ask asleep aunt away baby back backward bad
bag bake ball band bank bar base basket bath beach bean bear beat beautiful bed bee been before begin
behind bell belt bench best better between big bike bill bird birthday bit black blade blanket blind
block blood blue board boat body bone book boot born both bottle bottom bowl box boy brain bread break
breakfast brick bridge bring brother brush bucket build bus busy but butter button buy cake call calm
came camera camp can candle candy cap car card care carpet carry case cat catch cause cell center chair
chalk chance change cheap cheese cherry chicken child chin church circle city class clean clear climb
clock close cloth cloud coat coffee cold color comb come common cook cool copper copy corn corner cost
cotton could count country cousin cover cow crowd cry cup curtain cut dance dark daughter day dead deal
dear deep desk dinner dirt dish doctor dog doll door double dream dress drink drive dry duck during dust
each ear early earth east easy eat edge egg eight either elbow engine enough even evening ever every
example eye face fact fair fall family far farm fast father feather feel few field fifteen fight finger
fire first fish five flag flat floor flower fly follow food foot for forest fork forty forward four
free fresh friend frog from front fruit full fun funny game garden gate gentle gift girl give glass
glove goat gold good grass gray great green ground group grow gun hair half hall hammer hand happy hard
hat have head heart heavy help her here high hill him his hold hole holiday home hope horse hospital
hot hour house how hundred hungry hurry ice idea if inch ink into iron island jacket jam jar job join
joke juice jump just keep kettle key kick kind king kitchen kite knee knife lady lake lamp land large
last late laugh lazy lead leaf learn leather leg lemon less letter library lip list little live lock
long look lost loud love lunch machine made magic mail make man many map market marvin match may meat
medicine meet melon milk mind minute mirror miss money monkey month moon more morning mother mountain
mouse mouth move much mud music nail name narrow near neck needle nest net never nine noise north nose
note number nurse nut ocean often oil old open orange order other oven over page paint pair paper parent
park part party pass past path pen pencil people pepper piano picture pie pig pin pink pipe place plane
plant plate play please pocket point pool poor potato power present pretty price print prize pull pump
purple push queen quick quiet rabbit race radio rain rat read ready real red rest rice rich ring river
road rock roof room root rope rose round rule run sad safe sail salt same sand say school scissors sea
seat second seed seven shade shape sharp sheep sheila shelf shell ship shirt shoe short shoulder show
shut sick side silver simple sing sister sit six size skin skirt sky sleep slow small smell smile smoke
snake soap sock soft some son song soon sound soup south space spoon spring square star start station
steam steel stick still stone store storm story street string strong study sugar summer sun supper
sweet table tail talk tall tea teacher tell ten test thank the then there thick thin thing think three
through thumb ticket tiger time tired today together tomorrow tongue tonight tooth towel tower toy train
tree trip truck true turn twelve twenty under uncle until use valley very village visual voice wait
walk wall want warm wash watch water wave way weather week well west wet what wheel when where which
while white why wide wife wind window wing winter with woman wood wool word work world worm wow write
year young zero
""".split())
"""About 600 everyday words of one to three syllables."""


def syllables(word: str) -> int:
    """Rough syllable count from spelling: vowel groups, less a silent final ``e`` ("stone" 1, "athena" 3)."""
    word = word.lower()
    count = len(_VOWEL_GROUPS.findall(word))
    if count > 1 and word.endswith("e") and not word.endswith(("le", "ee", "ye")):
        count -= 1
    return max(1, count)
