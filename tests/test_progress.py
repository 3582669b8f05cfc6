import io

from surveymass.progress import progress_bar


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_shows_on_a_terminal_only_when_not_quiet():
    assert not progress_bar(range(3), file=_Terminal()).disable
    assert progress_bar(range(3), file=_Terminal(), quiet=True).disable


def test_bar_hidden_when_output_is_not_a_terminal():
    out = io.StringIO()
    assert list(progress_bar(range(3), desc="x", file=out)) == [0, 1, 2]
    assert out.getvalue() == ""
