"""Pure rules of the product: no aiogram, no SQL."""
