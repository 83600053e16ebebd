"""Rebuild SceneSans.ttf from its two sources (a maintenance script, not used by the app).

    python -m venv /tmp/ft && /tmp/ft/bin/pip install fonttools
    /tmp/ft/bin/python resources/fonts/build_font.py \
        DroidSansFallbackFull.ttf /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf SceneSans.ttf

Droid Sans Fallback has the CJK glyphs but no Latin letters or digits; DejaVu Sans has
those. Both have TrueType outlines (reportlab rejects CFF). Droid is scaled to DejaVu's
2048 units per em (lossless: ×8), hinting is dropped (it does not survive the merge), the
DejaVu glyphs Droid lacks are subset out and merged in. One font then covers a whole line of
mixed text in the PDF (reportlab picks one font per string) and in Qt.
"""

import sys

from fontTools import subset  # type: ignore[import-not-found]
from fontTools.merge import Merger  # type: ignore[import-not-found]
from fontTools.ttLib import TTFont  # type: ignore[import-not-found]
from fontTools.ttLib.scaleUpem import scale_upem  # type: ignore[import-not-found]


def main(droid_path: str, dejavu_path: str, out: str) -> None:
    droid = TTFont(droid_path)
    scale_upem(droid, 2048)
    for table in ("fpgm", "prep", "cvt ", "gasp", "GPOS", "GSUB", "GDEF", "vhea", "vmtx"):
        if table in droid:
            del droid[table]
    glyf = droid["glyf"]
    for name in droid.getGlyphOrder():
        glyf[name].removeHinting()
    latin = TTFont(dejavu_path)
    options = subset.Options()
    options.hinting = False
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=set(latin.getBestCmap()) - set(droid.getBestCmap()))
    subsetter.subset(latin)
    for table in ("GPOS", "GSUB", "GDEF", "kern", "MATH", "FFTM"):
        if table in latin:
            del latin[table]
    droid.save(out + ".a.ttf")
    latin.save(out + ".b.ttf")
    font = Merger().merge([out + ".a.ttf", out + ".b.ttf"])
    for record in font["name"].names:
        if record.nameID in (1, 4, 16):
            record.string = "SceneMatch Sans"
        elif record.nameID == 6:
            record.string = "SceneMatchSans"
    font.save(out)


if __name__ == "__main__":
    main(*sys.argv[1:4])
