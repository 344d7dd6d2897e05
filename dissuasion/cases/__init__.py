"""Persons, warnings and cases: the tier rules, case creation and merging, worklists and boards."""
