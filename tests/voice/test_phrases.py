"""Her reply is spoken a phrase at a time, and the first phrase comes early."""

from __future__ import annotations

from samantha.voice.phrases import Phrases, speakable


def fed(text: str) -> list[str]:
    """Feed ``text`` a word at a time, as a model streams it."""
    phrases = Phrases()
    out: list[str] = []
    for i, word in enumerate(text.split(" ")):
        out += phrases.feed(word if i == 0 else " " + word)
    return out + phrases.flush()


def test_sentences_are_spoken_as_they_complete() -> None:
    phrases = Phrases()
    assert phrases.feed("Hello there") == []
    assert phrases.feed("! How are") == ["Hello there!"]
    assert phrases.feed(" you?") == []  # the end is only sure once the next word starts
    assert phrases.feed(" I") == ["How are you?"]
    assert phrases.flush() == ["I"]


def test_the_first_phrase_may_end_at_a_clause_later_ones_at_sentences() -> None:
    said = fed(
        "That sounds really hard, and I'm glad you told me. Work can be heavy, "
        "and evenings short. Rest now."
    )
    assert said == [
        "That sounds really hard,",
        "and I'm glad you told me.",
        "Work can be heavy, and evenings short.",
        "Rest now.",
    ]


def test_a_short_opening_clause_waits_for_more() -> None:
    assert fed("Oh, I see. Tell me more.") == ["Oh, I see.", "Tell me more."]


def test_abbreviations_and_numbers_do_not_end_a_sentence() -> None:
    assert fed("Ask Dr. Lee about it. It costs 3.50 today.") == [
        "Ask Dr. Lee about it.",
        "It costs 3.50 today.",
    ]


def test_a_run_on_is_cut_at_a_space() -> None:
    said = fed(" ".join(["word"] * 70))
    assert all(len(p.split()) <= 31 for p in said)
    assert sum(len(p.split()) for p in said) == 70


def test_markup_and_emoji_are_not_read_aloud() -> None:
    assert speakable("**Really?** That's *great* 😊 #happy") == "Really? That's great happy"
    assert speakable("😊 ***") == ""


def test_the_first_sentence_is_spoken_as_its_mark_arrives() -> None:
    phrases = Phrases()
    assert phrases.feed("Sure") == []
    assert phrases.feed("!") == ["Sure!"]  # not waiting for the next word to show it ended
    assert phrases.feed(" What makes") == []
    assert phrases.feed(" you smile?") == []  # later sentences wait for the next word
    assert phrases.feed(" I") == ["What makes you smile?"]


def test_an_early_mark_is_not_taken_for_an_end_where_it_may_not_be_one() -> None:
    for waits in ("It costs 3.", "Ask Dr.", "Call Mrs.", "Say J.", "Look, etc.", "Hi"):
        assert Phrases().feed(waits) == [], waits
    assert Phrases().feed('"I see."') == ['"I see."']
