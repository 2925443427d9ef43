"""Value classes for the code ``cdk-imds check`` and ``enforce`` import, without ``dataclasses``.

Importing ``dataclasses`` brings ``inspect`` (and ``ast``, ``dis``, ``tokenize``), and every
``@dataclass`` compiles its methods from source when its module is imported: together about half
of what importing the policy engine cost (docs/design/import-cost.md). A ``Record`` subclass
lists its fields in ``__slots__`` and writes its ``__init__``; equality, hashing, ``repr`` and
``replace`` come from here. Fields are read-only by convention, as a frozen dataclass's were by
force: nothing assigns them after ``__init__``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Self


class Record:
    # A subclass's fields, in order.
    __slots__: tuple[str, ...] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied (``dataclasses.replace``)."""
        values: dict[str, Any] = {name: getattr(self, name) for name in self.__slots__}
        values.update(changes)
        return type(self)(**values)

    def as_dict(self) -> dict[str, Any]:
        """Field name -> value, in declaration order (``dataclasses.asdict`` of flat fields)."""
        return {name: getattr(self, name) for name in self.__slots__}
