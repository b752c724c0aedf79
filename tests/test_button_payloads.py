"""Every task button fits Telegram's 64-byte callback_data, even with large ids and versions."""

from __future__ import annotations

from handlers.callbacks import STATUS_LETTERS, TASK_ACTIONS, TaskAct


def test_task_buttons_fit_64_bytes_with_large_ids_and_versions():
    big = 9_999_999
    for act in TASK_ACTIONS:
        for arg in ("", *STATUS_LETTERS.values()):
            data = TaskAct(act=act, unit=big, round=big, task=big, arg=arg, version=big).pack()
            assert len(data.encode()) <= 64, data
            assert TaskAct.unpack(data).version == big
