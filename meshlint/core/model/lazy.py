"""``cached``: a value worked out on first reading and kept on the instance.

``functools.cached_property`` does the same, but on Python 3.10 and 3.11 it
takes a lock at every first reading (3.12 dropped it, python/cpython#87634):
each document of a stream reads its kind, its resource and its containers'
resources first once, so a stream of 200,000 documents took the lock millions
of times. A document is linted on one thread; where two threads did read one
value first at once, each would store the same value (a pure function of the
instance), as ``cached_property`` itself does on 3.12.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")


class cached(Generic[T]):
    """A property computed once per instance, stored in its ``__dict__`` (frozen
    dataclasses too: the value is stored without ``__setattr__``)."""

    def __init__(self, func: Callable[[Any], T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> cached[T]: ...
    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...
    def __get__(self, instance: object | None, owner: type | None = None) -> T | cached[T]:
        if instance is None:
            return self
        # a non-data descriptor: once stored, the instance's value is read directly
        value: T = self.func(instance)
        instance.__dict__[self.name] = value
        return value
