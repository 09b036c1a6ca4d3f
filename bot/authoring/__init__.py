"""Tools for the people who write the content: lint (with the age proof and the plain-
Japanese rules), reading scripts, Mermaid graphs, docs, flow coverage and live reload.
Used by the command line (``kakekomi lint|script|graph|docs|coverage``), never by a channel."""
