"""moderation: self-hosted, policy-grounded moderation for news-site reader comments."""
