"""Every admin change reads as a sentence with what changed, one formatter per action kind, and
a kind nobody taught the log yet still reads as words."""

from types import SimpleNamespace

import pytest

from moderation.services import admin_changes


def event(action, target, actor="maria", **detail):
    return SimpleNamespace(action=action, target=target, detail=detail or None,
                           actor=SimpleNamespace(username=actor) if actor else None)


SENTENCES = {
    "article.settings": (
        event("article.settings", "article flood-barrier",
              before={"comments_open": True, "premoderate": False},
              after={"comments_open": False, "premoderate": False},
              headline="Council approves a flood barrier"),
        "maria closed comments on “Council approves a flood barrier”"),
    "article.create": (
        event("article.create", "article cms-1", before=None, source="api",
              after={"headline": "Tram line reopens", "comments_open": True}),
        "maria added the article “Tram line reopens” (from the api)"),
    "article.update": (
        event("article.update", "article cms-1", source="api",
              before={"headline": "Tram line reopens", "section": "City"},
              after={"headline": "Tram line reopens early", "section": "City"}),
        "maria edited the article “Tram line reopens early”: headline from Tram line reopens "
        "to Tram line reopens early"),
    "user.create": (event("user.create", "user jo", role="admin", password="generated"),
                    "maria added jo as an admin"),
    "user.role": (event("user.role", "user jo", before="moderator", after="admin"),
                  "maria changed jo's role from moderator to admin"),
    "user.activate": (event("user.activate", "user jo"), "maria re-activated jo"),
    "user.deactivate": (event("user.deactivate", "user jo"), "maria deactivated jo"),
    "user.reset_password": (event("user.reset_password", "user jo"),
                            "maria reset jo's password"),
    "user.update": (event("user.update", "user jo", before={"email": None},
                          after={"email": "jo@example.org"}),
                    "maria edited user jo: email from none to jo@example.org"),
    "site.create": (event("site.create", "site Daily Bugle", before=None, after={}),
                    "maria added the site Daily Bugle"),
    "site.update": (event("site.update", "site Daily Bugle",
                          before={"allow_anonymous": True}, after={"allow_anonymous": False}),
                    "maria edited site Daily Bugle: anonymous posting from on to off"),
    "words.add": (event("words.add", "banned word idiot", word="idiot", kind="banned",
                        inflect=True),
                  "maria added “idiot” (and its plurals and endings) to the banned words"),
    "words.remove": (event("words.remove", "suspect word shill", word="shill", kind="suspect"),
                     "maria removed “shill” from the suspect words"),
    "policy.save": (
        event("policy.save", "policy v4", actor="admin", version=4, previous=3,
              changes=[{"label": "toxicity", "field": "reject", "before": 0.9, "after": 0.85}]),
        "admin changed the toxicity reject threshold from 0.90 to 0.85 (policy v4)"),
    "policy.reactivate": (event("policy.reactivate", "policy v5", version=5, based_on=2,
                                changes=[]),
                          "maria re-activated policy v2 (saved as v5)"),
    "author.hold": (event("author.hold", "Skeptic", hold_id=1),
                    "maria held every comment by “Skeptic”"),
    "author.lift": (event("author.lift", "Skeptic", hold_id=1),
                    "maria lifted the hold on “Skeptic”"),
    "sanction.hold": (event("sanction.hold", "Skeptic", match=["name"]),
                      "maria held every comment by “Skeptic” (matched on name)"),
    "sanction.suspend": (event("sanction.suspend", "Skeptic", match=["name", "email"],
                               expires_at="2031-01-08T10:00:00"),
                         "maria suspended “Skeptic” (matched on name, email) until 2031-01-08"),
    "sanction.ban": (event("sanction.ban", "Skeptic", match=["address"]),
                     "maria banned “Skeptic” (matched on address)"),
    "sanction.lift": (event("sanction.lift", "Skeptic", sanction_id=3),
                      "maria lifted the sanction on “Skeptic”"),
    "webhook.create": (event("webhook.create", "webhook #1 to https://cms.example/hook"),
                       "maria added webhook #1 to https://cms.example/hook"),
    "webhook.update": (event("webhook.update", "webhook #1 to https://cms.example/hook",
                             before={"active": True, "events": ["comment.posted"]},
                             after={"active": True, "events": ["comment.held"]}),
                       "maria edited webhook #1 to https://cms.example/hook: events from "
                       "comment.posted to comment.held"),
    "webhook.enable": (event("webhook.enable", "webhook #1 to https://x.example"),
                       "maria turned on webhook #1 to https://x.example"),
    "webhook.disable": (event("webhook.disable", "webhook #1 to https://x.example"),
                        "maria turned off webhook #1 to https://x.example"),
    "webhook.rotate_secret": (event("webhook.rotate_secret", "webhook #1 to https://x.example"),
                              "maria made a new secret for webhook #1 to https://x.example"),
    "webhook.redeliver": (event("webhook.redeliver", "webhook #1: delivery #7"),
                          "maria re-sent webhook #1: delivery #7"),
    "webhook.test": (event("webhook.test", "webhook #1 to https://x.example"),
                     "maria sent a test event to webhook #1 to https://x.example"),
    "import.decisions": (event("import.decisions", "import #2 talk.csv", rows=10, approved=7,
                               rejected=3, archived=0),
                         "maria imported 10 decisions (7 approved, 3 rejected) from #2 talk.csv"),
    "examples.add": (event("examples.add", "threat x", label="threat", text="I know where"),
                     "maria added the threat example “I know where”"),
    "examples.accept": (event("examples.accept", "insult x", label="insult", text="you clown"),
                        "maria put in use the insult example “you clown”"),
    "examples.discard": (event("examples.discard", "insult x", label="insult", text="meh"),
                         "maria discarded the insult example “meh”"),
    "examples.remove": (event("examples.remove", "x", label="identity_attack", text="those"),
                        "maria removed the identity attack example “those”"),
    "site_model.train": (event("site_model.train", "site v2", version=2),
                         "maria trained site model v2"),
    "site_model.activate": (event("site_model.activate", "site v2", version=2, previous=1),
                            "maria activated site model v2"),
    "site_model.rollback": (event("site_model.rollback", "no site model", version=None),
                            "maria rolled back to the site model"),
}


@pytest.mark.parametrize("action", sorted(SENTENCES))
def test_each_kind_of_admin_change_reads_as_a_sentence(action):
    change, sentence = SENTENCES[action]
    assert admin_changes.describe(change) == sentence


def test_every_formatter_has_its_sentence_tested():
    assert set(admin_changes.FORMATTERS) == set(SENTENCES)


def test_a_change_nobody_taught_the_log_still_reads_as_words():
    sentence = admin_changes.describe(event("site_model.retire", "site v3", actor=None))
    assert sentence == "the system made a change: retire (site model) on site v3"


def test_an_old_event_with_unexpected_detail_falls_back_instead_of_failing():
    odd = event("policy.save", "policy v2", changes=[None])
    assert admin_changes.describe(odd) == "maria made a change: save (policy) on policy v2"


def test_a_settings_change_that_touches_both_says_both():
    both = event("article.settings", "article story-1",
                 before={"comments_open": True, "premoderate": False},
                 after={"comments_open": True, "premoderate": True})
    assert admin_changes.describe(both) == "maria turned on pre-moderation for “story-1”"
