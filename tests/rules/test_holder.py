import threading

import pytest

from rules.errors import RulebookError
from rules.holder import RulebookHolder


def test_reload_swaps_in_a_good_version(book_copy):
    root = book_copy()
    holder = RulebookHolder(root)
    old = holder.current
    book_copy(("rules/drivers.yaml", "driver_rating < 4.5", "driver_rating < 4.6"))
    new = holder.reload()
    assert new is holder.current and new.version != old.version


def test_broken_version_is_refused_and_the_old_one_keeps_serving(book_copy):
    root = book_copy()
    holder = RulebookHolder(root)
    old = holder.current
    book_copy(("rules/drivers.yaml", "driver_rating < 4.5", "driver_ratng < 4.5"))
    with pytest.raises(RulebookError, match="did you mean 'driver_rating'"):
        holder.reload()
    assert holder.current is old


def test_readers_see_a_whole_rulebook_while_reloads_run(book_copy):
    root = book_copy()
    holder = RulebookHolder(root)
    seen, stop = set(), threading.Event()

    def read():
        while not stop.is_set():
            book = holder.current
            assert book.evaluate("riders/payment/receipt", {}).rule is not None
            seen.add(book.version)

    reader = threading.Thread(target=read)
    reader.start()
    for _ in range(5):
        holder.reload()
    stop.set()
    reader.join()
    assert seen
