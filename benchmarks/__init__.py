"""Benchmarks for kakekomi (``make bench`` / ``python -m benchmarks [--quick]``).

Not part of the test suite. Every scenario runs in a fresh subprocess so that peak
memory (``ru_maxrss``) and ``tracemalloc`` belong to that scenario alone:

* ``engine``   – simulated people walk randomly through every flow, in both
  languages, straight through ``Dialogue.handle`` over a real ``SqliteStore``
  (a temporary file, WAL, ``synchronous=FULL``: every step is committed durably).
* ``telegram`` – the same walks through a real python-telegram-bot ``Application``
  (updates fed with ``process_update``; every Bot API call answered in-process by
  ``LocalRequest``), for the kakekomi bot, a bare one-handler bot and the "after
  sending" triage written with ``ConversationHandler`` + ``PicklePersistence``.
* ``cold``     – ``load_content`` (load and validate every flow and locale) in a fresh
  interpreter.

Results: a table on stdout and in ``benchmarks/RESULTS.md``.
"""
