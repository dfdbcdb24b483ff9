from samantha.mood import read_mood


def test_reads_plain_feelings_with_their_cues() -> None:
    mood = read_mood("Hi, I had a rough day at work.")
    assert mood.label == "low"
    assert "rough day" in mood.cues
    assert "gentle" in mood.describe()
    assert read_mood("the weather").describe() == ""  # nothing to say, nothing in the prompt


def test_good_news_and_negation() -> None:
    assert read_mood("Great news: I got the job!").label == "happy"
    assert read_mood("I'm not tired at all").label == "neutral"
    assert read_mood("").label == "neutral"


def test_mixed_feelings_prefer_the_hard_one() -> None:
    assert read_mood("I'm happy for her but I feel so lonely").label == "lonely"
