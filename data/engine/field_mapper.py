"""The user's mappings pre-indexed: status -> state, type/labels -> flow type, field values.

Built once per (mappings, `/status` list, issues' current statuses); every lookup afterwards is
one dict access. Names compare case-insensitively, curly apostrophes read as ' (`fold_name`;
mappings hold folded names).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from configuration.metric_defaults import WAITING_PREFIX, WAITING_WORDS, default_mappings

NEW, ACTIVE, WAITING, DONE = "New", "Active", "Waiting", "Done"
#: Texts of a success field that mean the deployment failed (spec decision 5).
FAILED_TEXTS = frozenset({"failed", "failure", "false", "no", "unsuccessful"})
#: Texts of a production-impact field that mean true.
TRUE_TEXTS = frozenset({"true", "yes"})

#: Words of a status name: runs of letters and digits; any other character separates
#: (reading 10: `On_Hold`, `On-Hold` and `On Hold` all hold "hold").
_WORDS = re.compile(r"[^\W_]+")
_WAITING = frozenset(WAITING_WORDS)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'"})
#: The changelog name of JIRA's own "Flagged" field (Impediment), folded: what an unmapped
#: `flagged_field` reads.
FLAGGED = "flagged"


def is_flag_item(item: Any, flag_field: str | None) -> bool:
    """Whether a changelog item changes the flag: with no `flagged_field` mapped, an item of
    the field JIRA names "Flagged" (any case); else an item whose `fieldId` (Cloud) or `field`
    (Data Center names it) is the mapped field."""
    if type(item) is not dict:
        return False
    if not flag_field:
        return fold_name(str(item.get("field") or "")) == FLAGGED
    return item.get("fieldId") == flag_field or item.get("field") == flag_field


def flag_raised(item: dict[str, Any]) -> bool:
    """Whether a flag item sets the flag (its new text is not empty, e.g. "Impediment") rather
    than clearing it."""
    return bool(str(item.get("toString") or "").strip())


def fold_name(name: str) -> str:
    """A name as compared (reading 11): lower case, the curly apostrophes ’ and ‘ read as '."""
    return name.lower().translate(_APOSTROPHES)


def full_mappings(mappings: dict[str, Any] | None) -> dict[str, Any]:
    """The defaults updated by the given mappings (top-level keys)."""
    return {**default_mappings(), **(mappings or {})}


def mappings_hash(mappings: dict[str, Any]) -> str:
    """A short stable digest of the mappings, for cache keys and the report's settings."""
    payload = orjson.dumps(mappings, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return hashlib.sha256(payload).hexdigest()[:16]


def hotfix_pattern(pattern: Any) -> re.Pattern[str] | None:
    """The hotfix version pattern compiled (case-insensitive), or None when empty. A pattern
    that does not compile matches nothing here: the settings refuse it with a message."""
    if not pattern:
        return None
    try:
        return re.compile(str(pattern), re.IGNORECASE)
    except re.error:
        return None


def default_state(category: str, name: str) -> str:
    """The state of a status by the default rule: its category, and waiting words."""
    if category == "new":
        return NEW
    if category == "done":
        return DONE
    lname = fold_name(name)
    if lname.startswith(WAITING_PREFIX) or any(w in _WAITING for w in _WORDS.findall(lname)):
        return WAITING
    return ACTIVE


def value_texts(value: Any) -> list[str]:
    """The texts of a field value: a string, an option's `value`/`name`, a list's elements,
    `true`/`false` for a boolean."""
    if value is None:
        return []
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        inner = value.get("value", value.get("name"))
        return [inner] if isinstance(inner, str) else []
    if isinstance(value, list):
        return [text for part in value for text in value_texts(part)]
    return []


def _learn_category(found: dict[str, str], status: Any) -> None:
    """Remember a status object's category by folded name, unless one is known already."""
    if not isinstance(status, dict) or not status.get("name"):
        return
    lname = fold_name(str(status["name"]))
    if lname not in found:
        cat = ((status.get("statusCategory") or {}).get("key") or "").lower()
        if cat:
            found[lname] = cat


def _folded_set(values: Iterable[str] | None) -> frozenset[str]:
    return frozenset(fold_name(str(v)) for v in values or ())


class FieldMapper:
    """Indexed mappings for one project: every question the normalizer asks, answered fast."""

    def __init__(
        self,
        mappings: dict[str, Any],
        statuses: list[dict[str, Any]],
        issues: Sequence[dict[str, Any]],
    ) -> None:
        self.mappings = full_mappings(mappings)
        m = self.mappings
        self.hash = mappings_hash(m)
        self.explicit_states = {fold_name(str(k)): v for k, v in (m["status_states"] or {}).items()}
        self.canceled_resolutions = _folded_set(m["canceled_resolutions"])
        self.type_flow = {fold_name(str(k)): v for k, v in (m["flow_types"] or {}).items()}
        self.label_flow = {fold_name(str(k)): v for k, v in (m["flow_type_labels"] or {}).items()}
        self.non_flow = _folded_set(m["non_flow_types"])
        self.deployment_types = _folded_set(m["deployment_types"])
        self.incident_types = _folded_set(m["incident_types"])
        self.production_values = _folded_set(m["production_values"])
        self.flag_field: str | None = m.get("flagged_field") or None
        self.rework_labels = _folded_set(m.get("rework_labels"))
        self.hotfix_pattern = hotfix_pattern(m.get("hotfix_version_pattern"))
        self.cat_by_id: dict[str, str] = {}
        self.cat_by_name: dict[str, str] = {}
        for status in statuses or []:
            cat = ((status.get("statusCategory") or {}).get("key") or "").lower()
            if status.get("id") is not None:
                self.cat_by_id[str(status["id"])] = cat
            if status.get("name"):
                self.cat_by_name.setdefault(fold_name(status["name"]), cat)
        self._issues = issues
        self._cat_from_issues: dict[str, str] | None = None
        #: whether a category came from the issues' statuses (see `cat_from_issues`)
        self.used_issue_categories = False
        self.unknown_statuses: set[str] = set()
        self._state_cache: dict[tuple[Any, Any], str] = {}
        self._flow_cache: dict[tuple[str, tuple[str, ...]], str | None] = {}

    @property
    def cat_from_issues(self) -> dict[str, str]:
        """Categories read from the issues by folded name, for a status no list knows: the
        issues' current statuses first, then the statuses embedded in their links
        (`fields.issuelinks[].*.fields.status`, reading 9). Read on first use only: with a
        complete `/status` list it is never needed."""
        if self._cat_from_issues is None:
            found: dict[str, str] = {}
            for raw in self._issues:
                _learn_category(found, (raw.get("fields") or {}).get("status"))
            for raw in self._issues:
                for entry in (raw.get("fields") or {}).get("issuelinks") or ():
                    if not isinstance(entry, dict):
                        continue
                    for other in entry.values():
                        if isinstance(other, dict):
                            _learn_category(found, (other.get("fields") or {}).get("status"))
            self._cat_from_issues = found
        return self._cat_from_issues

    def category(self, sid: Any, name: str | None) -> str:
        """A status's category: `/status` by id, by name, then issues' statuses, else
        indeterminate (remembered for the dataset's warnings)."""
        if sid is not None and str(sid) in self.cat_by_id:
            return self.cat_by_id[str(sid)]
        lname = fold_name(name or "")
        if lname in self.cat_by_name:
            return self.cat_by_name[lname]
        self.used_issue_categories = True
        if lname in self.cat_from_issues:
            return self.cat_from_issues[lname]
        self.unknown_statuses.add(name or "")
        return "indeterminate"

    def state(self, sid: Any, name: str | None) -> str:
        """New / Active / Waiting / Done for a status id and name (memoized)."""
        key = (sid, name)
        found = self._state_cache.get(key)
        if found is None:
            lname = fold_name(name or "")
            found = self.explicit_states.get(lname)
            if found is None:
                found = default_state(self.category(sid, name), lname)
            self._state_cache[key] = found
        return found

    def flow_type(self, type_name: str, labels: tuple[str, ...]) -> str | None:
        """Feature/Defect/Risk/Debt/Other, or None for a non-flow type; a mapped label wins."""
        key = (type_name, labels)
        if key in self._flow_cache:
            return self._flow_cache[key]
        found: str | None = None
        for label in labels:
            if label in self.label_flow:
                found = self.label_flow[label]
                break
        else:
            if type_name in self.type_flow:
                found = self.type_flow[type_name]
            elif type_name not in self.non_flow:
                found = "Other"
        self._flow_cache[key] = found
        return found

    def is_canceled(self, state_now: str, resolution: str) -> bool:
        """Done with a canceling resolution (Won't Do, Duplicate, ...)."""
        return state_now == DONE and resolution in self.canceled_resolutions

    def is_production(self, fields: dict[str, Any]) -> bool:
        """Without an environment field every deployment is production; with one, an empty
        value is not."""
        env = self.mappings.get("environment_field")
        if not env:
            return True
        return any(
            fold_name(t.strip()) in self.production_values for t in value_texts(fields.get(env))
        )

    def success_failed(self, fields: dict[str, Any]) -> bool:
        """The mapped success field says the deployment failed."""
        field_id = self.mappings.get("deployment_success_field")
        if not field_id:
            return False
        return any(t.strip().lower() in FAILED_TEXTS for t in value_texts(fields.get(field_id)))

    def production_impact(self, fields: dict[str, Any]) -> bool:
        """The mapped production-impact field is true."""
        field_id = self.mappings.get("production_impact_field")
        if not field_id:
            return False
        value = fields.get(field_id)
        return value is True or any(t.strip().lower() in TRUE_TEXTS for t in value_texts(value))

    def rework_marked(self, fields: dict[str, Any], labels: tuple[str, ...]) -> bool:
        """A deployment issue marked as rework: the mapped rework field is true, or one of its
        (folded) labels is a rework label."""
        if self.rework_labels.intersection(labels):
            return True
        field_id = self.mappings.get("rework_field")
        if not field_id:
            return False
        value = fields.get(field_id)
        return value is True or any(t.strip().lower() in TRUE_TEXTS for t in value_texts(value))

    def is_hotfix_version(self, name: Any) -> bool:
        """A fixVersion name that matches the hotfix pattern (a patch above 0 by default)."""
        return bool(self.hotfix_pattern and self.hotfix_pattern.search(str(name or "")))

    def story_points(self, fields: dict[str, Any]) -> float | None:
        """Story points when the mapped field holds a JSON number, else None."""
        field_id = self.mappings.get("story_points_field")
        value = fields.get(field_id) if field_id else None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return float(value)
