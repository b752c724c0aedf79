"""The official ledger: plans, units, answers and the rules of the forms.

Pure Python: nothing here knows about Telegram or the database.
"""
