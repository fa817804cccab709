"""A scenario that cannot be used: the file, the field and what is wrong, one line per problem."""

from __future__ import annotations

from pathlib import Path



class ScenarioError(Exception):
    """A scenario that cannot be used, with where and why."""

    def __init__(self, file: str | Path, problems: list[tuple[str, str]]):
        self.file = str(file)
        self.problems = problems
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(
            f"{self.file}: {_one_line(field)}: {_one_line(problem)}" if field else f"{self.file}: {_one_line(problem)}"
            for field, problem in self.problems
        )


class FileRefused(ScenarioError):
    """The file itself cannot be read as a scenario (missing, outside the allowed folders, not a regular file).

    Nothing of its content is known, so a caller may blame whatever named it
    (the `--compare` option, a `comparator:` line) rather than the file.
    """


def _one_line(text: str) -> str:
    """One line per problem, each naming the file: a parser's message or a key may hold line breaks."""
    shown = "".join(c if c.isprintable() or c in "\n\t" else repr(c)[1:-1] for c in text)
    return " ".join(shown.split())
