"""Last Meter (最后一米): a Telegram bot for the red governance of residential compounds."""
