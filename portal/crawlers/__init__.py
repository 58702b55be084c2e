"""Crawlers: availability checks and application-figure extraction. No Flask imports here."""
