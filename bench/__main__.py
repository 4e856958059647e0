"""Run every benchmark: python -m bench"""

from bench import outbox_pacing

if __name__ == "__main__":
    outbox_pacing.main()
