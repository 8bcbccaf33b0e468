"""Offline training: data preparation, fine-tuning, evaluation and reports."""
