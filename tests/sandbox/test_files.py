"""Files both ways: multipart uploads, getFile, downloads, photos, and the 20 MB download cap."""

from __future__ import annotations

from typing import Any

import aiohttp

from sandbox.client import SimulatedUser
from tests.sandbox.conftest import BotApi, png

REPORT = "兴庆区 report\n".encode() * 100


async def _download(sandbox: Any, file_path: str) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as session:
        url = f"{sandbox.base_url}/file/bot{sandbox.token}/{file_path}"
        async with session.get(url) as response:
            return response.status, await response.read()


async def test_an_uploaded_document_can_be_fetched_back_through_get_file(
    sandbox: Any, bot_api: BotApi, alice: SimulatedUser
) -> None:
    status, body = await bot_api.call(
        "sendDocument",
        encoding="multipart",
        files={"document": ("台账.docx", REPORT)},
        chat_id=alice.id,
        caption="<b>filled</b>",
        parse_mode="HTML",
    )
    assert status == 200, body
    document = body["result"]["document"]
    assert (document["file_name"], document["file_size"]) == ("台账.docx", len(REPORT))
    assert document["mime_type"].endswith("wordprocessingml.document")
    assert body["result"]["caption_entities"] == [{"offset": 0, "length": 6, "type": "bold"}]
    file = await bot_api.ok("getFile", file_id=document["file_id"])
    assert file["file_size"] == len(REPORT)
    assert await _download(sandbox, file["file_path"]) == (200, REPORT)
    shown = (await alice.read_chat()).last_bot_message
    assert shown is not None and await alice.download(shown) == REPORT


async def test_a_file_id_can_be_sent_again(bot_api: BotApi, alice: SimulatedUser) -> None:
    _status, body = await bot_api.call(
        "sendDocument", encoding="multipart", files={"document": ("a.txt", b"A")}, chat_id=alice.id
    )
    file_id = body["result"]["document"]["file_id"]
    again = await bot_api.ok("sendDocument", chat_id=alice.id, document=file_id)
    assert again["document"]["file_id"] == file_id


async def test_attach_references_name_a_multipart_part(
    bot_api: BotApi, alice: SimulatedUser
) -> None:
    status, body = await bot_api.call(
        "sendDocument",
        encoding="multipart",
        files={"report": ("r.csv", b"a,b\n")},
        chat_id=alice.id,
        document="attach://report",
    )
    assert (status, body["result"]["document"]["file_name"]) == (200, "r.csv")


async def test_a_users_document_reaches_the_bot_and_downloads(
    sandbox: Any, bot_api: BotApi, alice: SimulatedUser
) -> None:
    await alice.send_document(REPORT, "进展.txt", caption="my report")
    update = (await bot_api.ok("getUpdates"))[-1]["message"]
    assert update["caption"] == "my report"
    assert update["document"]["mime_type"] == "text/plain"
    file = await bot_api.ok("getFile", file_id=update["document"]["file_id"])
    assert await _download(sandbox, file["file_path"]) == (200, REPORT)


async def test_photos_report_their_size_and_non_images_fail(
    bot_api: BotApi, alice: SimulatedUser
) -> None:
    await alice.send_photo(png(40, 30), caption="evidence")
    photo = (await bot_api.ok("getUpdates"))[-1]["message"]["photo"][-1]
    assert (photo["width"], photo["height"]) == (40, 30)
    status, body = await bot_api.call(
        "sendPhoto", encoding="multipart", files={"photo": ("p.png", png(3, 3))}, chat_id=alice.id
    )
    assert status == 200 and body["result"]["photo"][0]["width"] == 3
    status, body = await bot_api.call(
        "sendPhoto",
        encoding="multipart",
        files={"photo": ("p.png", b"not an image")},
        chat_id=alice.id,
    )
    assert (status, body["description"]) == (400, "Bad Request: IMAGE_PROCESS_FAILED")


async def test_bots_cannot_download_files_over_20_mb(
    bot_api: BotApi, alice: SimulatedUser
) -> None:
    await alice.send_document(b"\0" * (20 * 1024 * 1024 + 1), "scan.pdf")
    document = (await bot_api.ok("getUpdates"))[-1]["message"]["document"]
    assert await bot_api.error("getFile", file_id=document["file_id"]) == (
        400,
        "Bad Request: file is too big",
    )


async def test_an_unknown_file_path_is_not_found(sandbox: Any) -> None:
    status, _ = await _download(sandbox, "documents/file_999.txt")
    assert status == 404
