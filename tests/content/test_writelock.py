"""content/'s write lock: one writer at a time across threads and processes, reentrant in a thread,
a clear message when the wait runs out, and no stale lock after its holder is killed."""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import threading
import time

import pytest

from producers.content.writelock import LOCK_NAME, ContentBusy, content_write_lock


def _hold(content, ready, seconds):
    with content_write_lock(content):
        ready.set()
        time.sleep(seconds)


def test_another_thread_waits_until_the_holder_is_done(tmp_path):
    order = []

    def wait_then_write():
        with content_write_lock(tmp_path):
            order.append("waiter")

    with content_write_lock(tmp_path):
        waiter = threading.Thread(target=wait_then_write)
        waiter.start()
        time.sleep(0.3)
        order.append("holder done")
    waiter.join(5)
    assert order == ["holder done", "waiter"]


def test_a_step_inside_another_does_not_wait_on_itself(tmp_path):
    with content_write_lock(tmp_path, wait=0.2):
        with content_write_lock(tmp_path, wait=0.2):
            pass
        # still held after the inner step: another process would have to wait
        assert _busy_elsewhere(tmp_path)
    assert not _busy_elsewhere(tmp_path)


def _busy_elsewhere(content) -> bool:
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        return pool.apply(_try_once, (content,))


def _try_once(content) -> bool:
    try:
        with content_write_lock(content, wait=0.1):
            return False
    except ContentBusy:
        return True


def test_the_wait_ends_with_a_message_naming_the_holder(tmp_path):
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    holder = context.Process(target=_hold, args=(tmp_path, ready, 30))
    holder.start()
    try:
        assert ready.wait(10)
        started = time.monotonic()
        with pytest.raises(ContentBusy) as caught:
            with content_write_lock(tmp_path, wait=0.3):
                pytest.fail("the lock was taken while another process held it")
        assert 0.3 <= time.monotonic() - started < 3
        assert re.fullmatch(rf"{re.escape(str(tmp_path))} is being changed by process {holder.pid}, since "
                            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d; waited 0\.3 s\. Nothing was changed: "
                            r"try again in a minute", str(caught.value)), str(caught.value)
    finally:
        holder.kill()
        holder.join()


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    holder = context.Process(target=_hold, args=(tmp_path, ready, 30))
    holder.start()
    assert ready.wait(10)
    os.kill(holder.pid, signal.SIGKILL)
    holder.join()
    with content_write_lock(tmp_path, wait=1):
        assert (tmp_path / LOCK_NAME).is_file()
