"""Widgets the screens are built from: flowchart sidebar, step detail, verdict, fixes, tables."""
