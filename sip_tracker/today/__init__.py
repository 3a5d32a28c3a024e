"""Idag: what a coordinator must do today and this week, across their cases and their unit's."""
