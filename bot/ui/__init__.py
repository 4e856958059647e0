"""What people read: texts, keyboards and callback data, in the reader's language.

One module per feature. Services decide who is told what and when, and call these to render it;
handlers take their callback data and texts from here. Modules here import aiogram and bot.domain,
never storage or services.
"""
