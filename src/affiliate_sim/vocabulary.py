"""The model's vocabulary: camps, kinds of organization, fighting styles, kinds of event.

Each list is kept here once; scenario validation, the model, the outputs and the
documentation read it from here.
"""

from __future__ import annotations

#: Camps (``camp`` codes).
CAMPS: tuple[str, ...] = ("IS", "AQ", "state", "independent")
IS, AQ, STATE, INDEPENDENT = range(4)

#: Kinds of organization (``kind`` codes), as in the case book.
KINDS: tuple[str, ...] = (
    "is_core",
    "is_affiliate",
    "aq_branch",
    "aq_ally",
    "splinter",
    "state_force",
    "militia",
)
IS_CORE, IS_AFFILIATE, AQ_BRANCH, AQ_ALLY, SPLINTER, STATE_FORCE, MILITIA = range(7)

#: Fighting styles: guerrilla forces conceal themselves; conventional forces do not.
STYLES: tuple[str, ...] = ("guerrilla", "conventional")
GUERRILLA, CONVENTIONAL = range(2)

#: The kinds of event the model logs, with what each means. Each event is
#: ``{"day", "kind", "actor", "target", "magnitude", "note"}`` (an ensemble's events also
#: carry the replicate).
EVENT_KINDS: dict[str, str] = {
    "pledge": "actor pledges to the IS camp (target: the IS core); magnitude: its fighters",
    "pledge_rejected": "actor, former parent or ally of target, turns hostile to it",
    "coalition_formed": "local groups ally against an outsider (target); magnitude: members",
    "offensive_started": "actor opens a full offensive on target; magnitude: propensity",
    "shelter_targeted": "actor, on an offensive, turns on target for sheltering its target",
    "offensive_ended": "actor's offensive on target ends; magnitude: its length in days",
    "retreat": "actor, outmatched near its fighters, retreats towards cover and allies",
    "broken": "actor, having lost its breakpoint within an engagement, breaks off and "
              "disperses",
    "safe_passage": "actor, besieged, asks target for safe passage (note: granted/requested)",
    "purge": "actor's intelligence wing starts a purge; magnitude: suspected sympathizers",
    "raid_operation": "state actor launches a major raid operation on target",
    "emir_killed": "target's emir is killed (actor: the main killer of the day, if any)",
    "commanders_killed": "target loses commanders (magnitude: how many)",
    "leader_killed": "scripted assassination of target's leader by actor",
    "spectacular_attack": "scripted visibility shock of actor (e.g. a hostage beheading)",
    "courting": "scripted: actor (the IS core) courts target's fighters",
    "split": "the first public break of actor's disaffected towards target (dissidents)",
    "defection_statement": "a later public statement of actor's disaffected towards target",
    "wali_backed": "the IS core keeps target's contested wali",
    "wali_replaced": "the IS core replaces target's contested wali",
    "cadres_sent": "the IS core (actor) sends senior cadres and money to target (its share "
                   "passes CADRE_SHARE)",
    "collapse": "actor falls below the collapse threshold of fighters",
    "offensive_ordered": "scripted: a government or coalition orders actor to attack target "
                         "(magnitude: intensity)",
    "air_support": "scripted: air power supports actor's combat (against target, if any; "
                   "magnitude: attrition multiplier)",
    "recognized": "scripted: the IS core (actor) recognizes target as its province",
    "decapitation": "scripted: state actor kills target's emir, provoking nobody",
    "withdrawal": "scripted: actor withdraws from a region (note: the region)",
    "deployment": "scripted: fighters of actor arrive from outside (magnitude: how many)",
    "core_fortunes": "scripted: the IS core's (actor) fortunes across theatres change "
                     "(magnitude: its means and broadcast relative to the start)",
    "atrocity": "scripted: actor's leadership commits a public atrocity against civilians "
                "(magnitude: its brutality at the act; it fades)",
}
