"""`smallcrm contact`: the people the team sells to."""

from __future__ import annotations

from typing import Annotated

import typer

from smallcrm.cli import output
from smallcrm.cli.context import get_db
from smallcrm.cli.options import (
    FormatOpt,
    JsonOpt,
    LimitOpt,
    MineOpt,
    OwnerOpt,
    QuietOpt,
    YesOpt,
    chosen_format,
    edit_changes,
    owner_filter,
    usage_error,
)

app = typer.Typer(
    help="People: add, list, show, edit, delete, merge, forget.",
    no_args_is_help=True,
    add_completion=False,
)

RefArg = Annotated[
    str, typer.Argument(help="The contact: an id, an email or a unique name.", metavar="REF")
]
EmailOpt = Annotated[str | None, typer.Option("--email", help="Email address.")]
PhoneOpt = Annotated[str | None, typer.Option("--phone", help="Phone number (stored as E.164).")]
CompanyOpt = Annotated[
    str | None,
    typer.Option("--company", help="The company (a REF, or a new company of that name)."),
]
TitleOpt = Annotated[str | None, typer.Option("--title", help="Job title.")]
StageOpt = Annotated[
    str | None,
    typer.Option(
        "--stage",
        help="Lifecycle stage: suspect, prospect, first-time customer, repeat customer, "
        "client, member, advocate, partner.",
    ),
]
NoteOpt = Annotated[str | None, typer.Option("--note", help="A free-text note.")]


@app.command("add")
def contact_add(
    name: Annotated[str, typer.Argument(help="The contact's full name.", metavar="NAME")],
    email: EmailOpt = None,
    phone: PhoneOpt = None,
    company: CompanyOpt = None,
    title: TitleOpt = None,
    stage: StageOpt = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="Owner (default: you).", metavar="USER")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="A tag (repeat for more; commas split).")
    ] = None,
    note: NoteOpt = None,
    quiet: QuietOpt = False,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Add a contact; prints `Created contact ID: NAME` (-q: only the id)."""
    from smallcrm import contacts

    form = chosen_format(fmt, json_)
    record = contacts.add(
        get_db(),
        name,
        email=email,
        phone=phone,
        company=company,
        title=title,
        stage=stage,
        owner=owner,
        tags_=tag or (),
        note=note,
    )
    output.announce("Created", "contact", record, form, quiet)


@app.command("list")
def contact_list(
    search: Annotated[
        str | None, typer.Option("--search", "-s", help="Only contacts matching these words.")
    ] = None,
    tag: Annotated[str | None, typer.Option("--tag", help="Only contacts with this tag.")] = None,
    company: Annotated[
        str | None, typer.Option("--company", help="Only contacts of this company (a REF).")
    ] = None,
    stage: Annotated[
        str | None, typer.Option("--stage", help="Only contacts in this lifecycle stage.")
    ] = None,
    owner: OwnerOpt = None,
    mine: MineOpt = False,
    limit: LimitOpt = None,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """List contacts by name."""
    from smallcrm import contacts
    from smallcrm.records import Contact

    form = chosen_format(fmt, json_)
    found = contacts.list_contacts(
        get_db(),
        search=search,
        tag=tag,
        company=company,
        stage=stage,
        owner=owner_filter(owner, mine),
        limit=limit,
    )
    output.emit(found, form, kind=Contact)


@app.command("show")
def contact_show(ref: RefArg, fmt: FormatOpt = None, json_: JsonOpt = False) -> None:
    """Show one contact."""
    from smallcrm import contacts

    form = chosen_format(fmt, json_)
    output.emit_one(contacts.get(get_db(), ref), form)


@app.command("edit")
def contact_edit(
    ref: RefArg,
    name: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    email: Annotated[str | None, typer.Option("--email", help='Email ("" clears it).')] = None,
    phone: Annotated[str | None, typer.Option("--phone", help='Phone ("" clears it).')] = None,
    company: Annotated[
        str | None, typer.Option("--company", help='Company REF or new name ("" unlinks).')
    ] = None,
    title: Annotated[str | None, typer.Option("--title", help='Job title ("" clears it).')] = None,
    stage: Annotated[
        str | None, typer.Option("--stage", help='Lifecycle stage ("" clears it).')
    ] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="New owner (a user).", metavar="USER")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help='Note ("" clears it).')] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Add a tag (repeatable).")] = None,
    untag: Annotated[
        list[str] | None, typer.Option("--untag", help="Remove a tag (repeatable).")
    ] = None,
    do_not_contact: Annotated[
        bool | None,
        typer.Option(
            "--do-not-contact/--contact-ok",
            help="Flag that this person must not be contacted (left out of campaign exports "
            "and reminders), or clear the flag.",
            show_default=False,
        ),
    ] = None,
    quiet: QuietOpt = False,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Change a contact's fields; only the options given change."""
    from smallcrm import contacts

    form = chosen_format(fmt, json_)
    fields = {
        "name": name,
        "email": email,
        "phone": phone,
        "company": company,
        "title": title,
        "stage": stage,
        "owner": owner,
        "note": note,
    }
    changes = edit_changes(fields, tag, untag)
    if do_not_contact is not None:
        changes["do_not_contact"] = do_not_contact
    if not changes:
        usage_error("nothing to change; give at least one option such as --email")
    record = contacts.edit(get_db(), ref, **changes)
    output.announce("Updated", "contact", record, form, quiet)


@app.command("delete")
def contact_delete(ref: RefArg, yes: YesOpt = False) -> None:
    """Delete a contact.

    Its activities and follow-ups go with it; its leads stay, unlinked. Asks first on a
    terminal; without a terminal it refuses unless --yes is given.
    """
    from smallcrm import contacts

    db = get_db()
    record = contacts.get(db, ref)
    output.confirm(f"Delete contact {record.id}: {output.label(record)}?", yes)
    gone = contacts.delete(db, str(record.id))
    output.announce("Deleted", "contact", gone)


@app.command("merge")
def contact_merge(
    keep: Annotated[str, typer.Argument(help="The contact to keep (a REF).", metavar="KEEP")],
    other: Annotated[
        str, typer.Argument(help="The duplicate to fold into KEEP (a REF).", metavar="OTHER")
    ],
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Merge duplicate contact OTHER into KEEP.

    OTHER's activities, follow-ups, leads and tags move to KEEP, KEEP's empty fields are
    filled from OTHER, and OTHER is deleted.
    """
    from smallcrm import contacts

    form = chosen_format(fmt, json_)
    db = get_db()
    gone = contacts.get(db, other)
    record = contacts.merge(db, keep, str(gone.id))
    if form in ("json", "jsonl", "csv"):
        output.emit_one(record, form)
    else:
        output.write_line(f"Merged contact {gone.id} into {record.id}: {output.label(record)}")


@app.command("forget")
def contact_forget(ref: RefArg, yes: YesOpt = False) -> None:
    """Erase a person and everything that identifies them, for good.

    Removes the contact, their activities and follow-ups (text included), tags, search
    entries and every history value naming them, and scrubs the database file and its WAL
    so no trace of them is left in free space. Their leads stay, unlinked. A restore of an
    older backup erases them again. Cannot be undone. Asks first on a terminal; otherwise
    needs --yes.
    """
    import sys

    from smallcrm import contacts, privacy
    from smallcrm.errors import Invalid

    db = get_db()
    record = contacts.get(db, ref)
    if not yes:
        if not output.is_terminal(sys.stdin):
            raise Invalid("refusing to erase without confirmation; pass --yes to confirm")
        question = f"Erase contact {record.id}: {output.label(record)} for good?"
        if not typer.confirm(question, default=False, err=True):
            sys.stderr.write("Nothing erased.\n")
            raise typer.Exit(1)
    done = privacy.forget(db, str(record.id))

    def n(count: int, word: str, plural: str | None = None) -> str:
        return f"{count} {word if count == 1 else plural or word + 's'}"

    output.write_line(
        f"Erased contact {done.contact_id}: {n(done.activities, 'activity', 'activities')}, "
        f"{n(done.followups, 'follow-up')}, {n(done.tags, 'tag')}, "
        f"{n(done.search_entries, 'search entry', 'search entries')} and "
        f"{n(done.history_entries, 'history entry', 'history entries')} removed; "
        f"{n(done.leads_unlinked, 'lead')} unlinked"
    )
    if done.backups_left:
        output.write_line(
            f"{n(done.backups_left, 'automatic backup')} made earlier still hold their data; "
            "restoring one erases them again"
        )
    if not done.wal_cleared and db.dialect == "sqlite":
        output.write_line(
            "Another program has the database open: the erased text leaves the write-ahead "
            "log at its next checkpoint"
        )


@app.command("export-data")
def contact_export_data(
    ref: RefArg,
    out: Annotated[
        str | None,
        typer.Option(
            "--output", "-o", help="Write to FILE (0600) instead of stdout.", metavar="FILE"
        ),
    ] = None,
) -> None:
    """Everything stored about a person, as JSON (for a right-of-access request): the
    contact, their leads, activities, follow-ups and the history of changes about them."""
    import json
    import os

    from smallcrm import privacy

    data = privacy.export_data(get_db(), ref)
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if out is None or out == "-":
        output.write_line(text.rstrip("\n"))
        return
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(out, 0o600)
    except OSError as error:
        from smallcrm.errors import Invalid

        raise Invalid(f"cannot write {out}: {error.strerror or error}") from None
    output.write_line(f"Wrote everything stored about contact {data['contact']['id']} to {out}")
