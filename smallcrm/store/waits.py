"""How long smallcrm waits for another program's lock on an SQLite file, whichever way it opens
the file: through the store (smallcrm.store.engine) or with the standard library alone
(smallcrm.store.fastread, smallcrm.store.loading). No imports: those modules stay light."""

#: A statement waits up to this long inside SQLite (busy_timeout) for a lock.
BUSY_TIMEOUT_S = 15
#: A BEGIN that still finds the database locked is tried again until this long has passed.
WRITE_RETRY_S = 30
