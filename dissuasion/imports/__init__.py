"""Importing the center's warning lists: readers, header mapping, row verdicts, the pipeline."""
