"""Buurtwerkkamers API: registration, referrals and district figures."""

API_VERSION = "1.0.0"
