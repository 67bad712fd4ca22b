"""Wegweiser: an anonymous, multilingual first-contact chat for counselling services."""
