"""One screen per file: board, contacts, customer, lead and agenda."""
