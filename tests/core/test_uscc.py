import pytest

from core.uscc import check_character, make_uscc, uscc_problem


def test_standard_example_is_valid():
    # The worked example printed in GB 32100-2015.
    assert check_character("91350100M000100Y4") == "3"
    assert uscc_problem("91350100M000100Y43") is None


@pytest.mark.parametrize(
    ("code", "expect"),
    [
        ("91350100M000100Y44", "校验位"),  # wrong check character
        ("91350100M000100Y4", "18 位"),  # too short
        ("91350100M000I00Y43", "非法字符"),  # I is not in the alphabet
        ("91350100M000100Y4O", "非法字符"),
    ],
)
def test_invalid_codes_say_why(code, expect):
    problem = uscc_problem(code)
    assert problem is not None and expect in problem


def test_make_uscc_round_trips():
    for body in ("91330100MA2B3C4D5", "12330000470000000", "91110000X00000000"):
        assert uscc_problem(make_uscc(body)) is None
