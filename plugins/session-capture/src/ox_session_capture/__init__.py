"""ox session capture: records coding agents' session files into the ledger (tail mode).

Public modules, which other plugins (ox-handler-session-finalize) may import:
`records` (the session folder's files and their models), `confined` (reading them without
following links), `redact` (all redaction), `liveness` (whether a recording's agent runs),
`recover` (catching a stale recording up), `events` (what capture publishes) and `testing`.
The rest (watcher, tail, journal, recording, service, adapters, handler) is internal.
"""
