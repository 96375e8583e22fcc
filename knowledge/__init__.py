"""The flowchart, the cause catalogue, the rules and the fixes, and the engine that walks them.

Headless: never imports Textual. Text the operator reads lives in ``data/`` in
English and Simplified Chinese.
"""
