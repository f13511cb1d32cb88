from pathlib import Path

from bot.domain.intent_titles import IntentTitles, in_words
from bot.training.nlu_export import domain_intents
from tests.rasa_stack import PROJECT_ROOT


def test_every_intent_of_the_domain_has_a_title_in_words():
    titles = IntentTitles.load(PROJECT_ROOT)
    for intent in domain_intents(PROJECT_ROOT / "domain.yml"):
        assert titles.titles.get(intent), f"intent_titles.yml has no title for {intent}"
        assert "_" not in titles.title(intent)


def test_an_intent_without_a_title_is_shown_in_words():
    titles = IntentTitles({"track_refund": "Where is my refund"})
    assert titles.title("track_refund") == "Where is my refund"
    assert titles.title("ask_gift_wrapping") == "Ask gift wrapping"
    assert titles.title(None) == ""
    assert in_words("nlu_fallback") == "Nlu fallback"


def test_a_project_without_the_file_shows_every_intent_in_words(tmp_path: Path):
    assert IntentTitles.load(tmp_path).title("get_invoice") == "Get invoice"
