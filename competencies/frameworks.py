"""The four IBCR sector frameworks, loaded from data/competency_frameworks.json."""

import json
from pathlib import Path

DATA_FILE = Path(__file__).parent / "data" / "competency_frameworks.json"


def framework_data() -> dict:
    return json.loads(DATA_FILE.read_text())


def frameworks_load(framework_model, competency_model) -> int:
    """Create missing frameworks and competencies; never rename or revive what a
    deployment has adapted. Returns the competencies created. Takes the models so a
    data migration can pass its historical ones."""
    created = 0
    for sector in framework_data()["sectors"]:
        framework, _ = framework_model.objects.get_or_create(
            sector=sector["code"],
            defaults={"name": sector["name"], "adopted": sector.get("adopted")},
        )
        for item in sector["competencies"]:
            _, was_created = competency_model.objects.get_or_create(
                framework=framework, number=item["number"], defaults={"title": item["title"]}
            )
            created += was_created
    return created
