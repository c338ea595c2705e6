"""Ingest preview: get a session file (fetched from GitHub or sent inline), parse it into HAIL
with the parser its content calls for, and store nothing."""
