"""Bringing in a room's paper list: every row or none, every bad row named by its line."""

from datetime import date, timedelta

from typer.testing import CliRunner

from api.cli import app as cli
from tests.helpers import assert_problem

DAY = (date.today() - timedelta(days=3)).isoformat()
DUTCH_DAY = (date.today() - timedelta(days=3)).strftime("%d-%m-%Y")


async def _import(client, headers, text, room="multibron"):
    return await client.post(
        "/registrations/import",
        params={"room": room},
        headers={**headers, "Content-Type": "text/csv"},
        content=text.encode("utf-8"),
    )


async def test_a_good_list_is_imported_whole(client, coordinator):
    existing = (
        await client.post("/residents", headers=coordinator, json={"room": "multibron"})
    ).json()
    text = (
        "date,activity,residentCode,residentName,headcount,note\n"
        f"{DAY},forms,{existing['code']},,,\n"
        f"{DAY},dutch-language,,Mevrouw A,,first lesson\n"
        f"{DAY},dutch-language,,Mevrouw A,,second lesson\n"
        f"{DAY},connection,,,14,coffee morning\n"
    )
    response = await _import(client, coordinator, text)
    assert response.status_code == 201, response.text
    assert response.json() == {"registrations": 4, "residentsCreated": 1}
    listed = (await client.get("/registrations", headers=coordinator)).json()["items"]
    assert sum(r["headcount"] for r in listed) == 17


async def test_excel_with_dutch_settings_semicolons_and_day_month_year(client, coordinator):
    text = f"\ufeffDatum;Activiteit;Aantal\r\n{DUTCH_DAY};forms;3\r\n"
    response = await _import(client, coordinator, text)
    assert response.status_code == 201, response.text
    assert response.json()["registrations"] == 1


async def test_a_list_with_bad_rows_imports_nothing_and_names_every_bad_row(client, coordinator):
    text = (
        "date,activity,residentCode,headcount,note\n"
        f"{DAY},forms,,2,\n"
        "2019-02-30,forms,,1,\n"
        f"{DAY},juggling,,1,\n"
        f"{DAY},forms,ZZZ-ZZZZ,,\n"
        f"{DAY},forms,,,\n"
        f"{DAY},forms,,1,BSN 111222333\n"
    )
    response = await _import(client, coordinator, text)
    problem = assert_problem(response, 400)
    lines = [p["name"] for p in problem["invalidParams"]]
    assert lines == ["line 3", "line 4", "line 5", "line 6", "line 7"]
    # a mistyped code (ZZZ-ZZZ8 is right) is named like any bad cell: it is not looked up
    assert "mistyped" in problem["invalidParams"][2]["reason"]
    listed = (await client.get("/registrations", headers=coordinator)).json()["items"]
    assert listed == []


async def test_a_file_without_the_needed_columns_is_a_400(client, coordinator):
    assert_problem(await _import(client, coordinator, "when,what\n2019-01-01,forms\n"), 400)
    assert_problem(await _import(client, coordinator, ""), 400)


async def test_only_a_coordinator_of_that_room_imports(client, volunteer, coordinator_samen_sterk):
    text = f"date,activity,headcount\n{DAY},forms,1\n"
    assert_problem(await _import(client, volunteer, text), 403)
    assert_problem(await _import(client, coordinator_samen_sterk, text), 403)


def test_bwk_import_reads_a_file_with_a_progress_bar(cli_env, tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("date,activity,headcount\n" + f"{DAY},forms,2\n" * 250)
    result = CliRunner().invoke(cli, ["import", str(path), "--room", "de-handreiking"])
    assert result.exit_code == 0, result.output
    assert "imported 250 registrations" in result.output


def test_bwk_import_refuses_a_bad_file_and_says_why(cli_env, tmp_path):
    path = tmp_path / "list.csv"
    path.write_text(f"date,activity,headcount\n{DAY},forms,2\nyesterday,forms,1\n")
    result = CliRunner().invoke(cli, ["import", str(path), "--room", "de-handreiking"])
    assert result.exit_code == 1
    assert "line 3" in result.output
