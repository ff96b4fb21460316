"""The product's labels, defined once; other vocabularies are mapped to them at the edges."""

POLICY_LABELS = ("profanity", "personal_attack", "incitement")
"""The labels a site's policy can act on."""

SUB_LABELS = ("threat", "identity_attack", "toxicity")
"""Finer scores trained where the data has them: incitement's two halves and an overall score."""

OTHER_LABELS = ("spam",)
"""Scores that are not abuse: adverts, scams and link farming (trained on the project's corpus only)."""

HEADS = POLICY_LABELS + SUB_LABELS + OTHER_LABELS
"""Every score the violation model returns, in output order (a model trained before a head existed
returns the heads it has)."""

STANCES = ("favor", "against", "neutral", "unrelated")
"""Stance of a comment toward the article's main claim."""

ATTACK_TARGETS = ("commenter", "author", "public_figure")

ACTIONS = ("approve", "hold", "reject")

# DSA-style rejection codes (Coral's rejectionReason.code) for each policy label.
REJECTION_CODES = {
    "profanity": "OFFENSIVE",
    "personal_attack": "ABUSIVE",
    "incitement": "HATE_SPEECH",
    "spam": "SPAM",
}

# Perspective attributes and the score each one reads.
PERSPECTIVE_ATTRIBUTES = {
    "TOXICITY": "toxicity",
    "SEVERE_TOXICITY": "severe_toxicity",
    "IDENTITY_ATTACK": "identity_attack",
    "INSULT": "personal_attack",
    "PROFANITY": "profanity",
    "THREAT": "threat",
}
