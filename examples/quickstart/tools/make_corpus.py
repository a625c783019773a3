#!/usr/bin/env python3
"""Generate the synthetic customer-support corpus of the quickstart.

Every ticket is made from templates and a fixed seed, so the corpus is free to
redistribute and the same command always writes the same bytes:

    python3 tools/make_corpus.py            # writes data/tickets-*.txt|jsonl
    python3 tools/make_corpus.py --check    # verifies the committed files

A ticket is a header line, the customer's message and the agent's reply:

    Ticket #48213 | Product: Nimbus Router X2 | Topic: connectivity
    Customer: Hello, my Nimbus Router X2 keeps dropping the Wi-Fi ...
    Agent: Hi Dana, thank you for contacting us. ...

Outputs (the splits never share a ticket text):
    data/tickets-train.txt   tickets separated by a blank line (fine-tuning)
    data/tickets-val.txt     the same format (validation loss while training)
    data/tickets-test.jsonl  one {"id": "t0001", "text": "..."} per line (evals)

After a change, regenerate, then update the sha256 in datasets/*/v*.yaml --
or better, add new versions (v2.yaml): versions are immutable in hone.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys

SEED = 20240611
N_TRAIN, N_VAL, N_TEST = 110, 20, 100

# product -> (topic, [(issue, what the customer says, the fix the agent gives)])
PRODUCTS = {
    "Nimbus Router X2": ("connectivity", [
        ("drops", "keeps dropping the Wi-Fi connection every few minutes",
         "update the firmware from Settings > System > Update and restart the router"),
        ("slow", "is very slow in the evening even though the internet plan is fast",
         "switch the router to the 5 GHz band and choose channel 36 in the wireless settings"),
        ("lights", "shows a blinking red light and no internet",
         "unplug the router for thirty seconds and check that the cable is in the WAN port"),
    ]),
    "AeroBlend Pro blender": ("appliances", [
        ("stops", "stops after a few seconds when I blend ice",
         "let the motor cool down for twenty minutes and blend ice with a little water"),
        ("leaks", "leaks from the bottom of the jar",
         "check that the rubber ring is seated in the blade base and tighten the jar"),
        ("noise", "makes a loud grinding noise",
         "remove the jar and make sure nothing is stuck under the blades"),
    ]),
    "Lumen desk lamp": ("lighting", [
        ("flicker", "flickers when I set it to the lowest brightness",
         "hold the touch button for ten seconds to reset the dimmer"),
        ("dead", "does not turn on at all",
         "try another USB-C adapter with at least 18 W, since weak adapters are a common cause"),
    ]),
    "Pulse fitness band": ("wearables", [
        ("sync", "will not sync with the app on my phone",
         "remove the band from Bluetooth settings, restart the phone and pair it again in the app"),
        ("battery", "runs out of battery in less than a day",
         "turn off the always-on display and continuous heart rate in the app settings"),
        ("steps", "counts far too many steps while I drive",
         "enable motion filtering under Settings > Activity in the app"),
    ]),
    "Orbit wireless earbuds": ("audio", [
        ("one-side", "only play sound in the left earbud",
         "put both earbuds in the case for ten seconds and then take them out together"),
        ("charge", "do not charge in the case",
         "clean the charging contacts with a dry cotton swab and charge the case for an hour"),
        ("pairing", "cannot be found by my laptop",
         "press the case button for five seconds until the light blinks white, then search again"),
    ]),
    "Harbor coffee maker": ("appliances", [
        ("weak", "makes coffee that tastes weak and watery",
         "run a descaling cycle with the cleaning tablet and use the strong brew setting"),
        ("error", "shows error E4 on the display",
         "empty the water tank, reinsert it firmly and restart the machine"),
    ]),
    "Atlas backpack": ("accessories", [
        ("zipper", "has a broken zipper after two weeks",
         "send us a photo of the zipper; it is covered by the warranty and we will repair it for free"),
        ("strap", "has a strap that came loose",
         "send us a photo of the strap so we can ship a replacement part"),
    ]),
    "Vega smart thermostat": ("smart home", [
        ("offline", "shows as offline in the app",
         "reconnect it to Wi-Fi from Menu > Network and make sure your network is 2.4 GHz"),
        ("temperature", "shows a temperature that is three degrees too high",
         "open Menu > Sensor > Calibration and set the offset to match a room thermometer"),
        ("schedule", "ignores the schedule I set",
         "check that schedule mode is on and that the time zone in the app is correct"),
    ]),
    "Quill e-reader": ("devices", [
        ("frozen", "is frozen on the home screen",
         "hold the power button for forty seconds to force a restart"),
        ("books", "does not show purchased books",
         "open Settings > Account and tap Sync Library, with the device connected to Wi-Fi"),
    ]),
    "Terra plant sensor": ("smart home", [
        ("readings", "reports zero moisture even in wet soil",
         "clean the metal prongs and push the sensor at least five centimeters into the soil"),
        ("battery", "needs a new battery every week",
         "update the app, since a recent version fixed a bug that kept the sensor awake"),
    ]),
}

BILLING = [
    ("double", "I was charged twice for order #{order}",
     "I can see the duplicate charge for order #{order}, and I have refunded it. The money will be back on your card in three to five business days"),
    ("refund", "I returned order #{order} two weeks ago but have not received a refund",
     "your return for order #{order} has arrived at our warehouse, and I have issued the refund today. It will show on your statement within five business days"),
    ("address", "I need to change the delivery address for order #{order}",
     "I have updated the delivery address for order #{order}. You will receive a new confirmation email shortly"),
    ("late", "order #{order} was supposed to arrive on {day} but it is still not here",
     "I checked order #{order} with the carrier, and it is now expected on {day2}. I am sorry for the delay"),
]

CUSTOMERS = ["Dana", "Omar", "Lena", "Priya", "Tom", "Grace", "Mateo", "Aiko", "Jonas", "Fatima",
             "Chen", "Sofia", "Marcus", "Nina", "Ravi", "Elena", "Sam", "Olga", "Kwame", "Isabel"]
AGENTS = ["Alex", "Jordan", "Maya", "Chris", "Robin"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

OPENINGS = ["Hello, ", "Hi, ", "Hello support, ", "Hi there, ", "Good morning, ", ""]
SINCE = ["I bought it last month", "I bought it two weeks ago", "it was a gift",
         "I have had it for a year", "it arrived yesterday", "I bought it in your online store"]
TRIED = ["I already tried restarting it.", "I tried turning it off and on again.",
         "I read the manual but could not find anything.", "", ""]
ASKS = ["Can you help?", "What should I do?", "Could you please help me?",
        "Is there a fix for this?", "Please advise."]
GREETINGS = ["Hi {name}, thank you for contacting us.", "Hello {name}, thanks for reaching out.",
             "Hi {name}, thank you for your message.", "Dear {name}, thank you for writing to us."]
SORRY = ["I am sorry to hear that your {product} {issue}.",
         "I am sorry that your {product} {issue}.",
         "I understand how frustrating it is when your {product} {issue}."]
STEPS = ["Please {fix}.", "Could you please {fix}?", "The quickest fix is to {fix}.",
         "Please try the following: {fix}."]
FOLLOWUP = ["If the problem continues, reply to this ticket and we will arrange a replacement.",
            "If that does not help, just reply here and we will look into it further.",
            "Let us know if this solves the problem.",
            "If it still does not work, we will send you a replacement under warranty."]
BILLING_ASKS = ["Can you check this?", "Please help.", "Could you look into it?", "Thank you."]
CLOSINGS = ["Best regards, {agent} from Support", "Kind regards, {agent}",
            "Have a great day! {agent}, Customer Support", "Thanks, {agent}"]


def product_ticket(rng: random.Random) -> str:
    product = rng.choice(sorted(PRODUCTS))
    topic, issues = PRODUCTS[product]
    _, says, fix = rng.choice(issues)
    name, agent = rng.choice(CUSTOMERS), rng.choice(AGENTS)
    tried = rng.choice(TRIED) if topic != "accessories" else ""
    customer = f"{rng.choice(OPENINGS)}my {product} {says}. {rng.choice(SINCE).capitalize()}."
    if tried:
        customer += " " + tried
    customer += " " + rng.choice(ASKS)
    customer = customer[0].upper() + customer[1:]
    agent_text = " ".join([
        rng.choice(GREETINGS).format(name=name),
        rng.choice(SORRY).format(product=product, issue=says),
        rng.choice(STEPS).format(fix=fix),
        rng.choice(FOLLOWUP),
        rng.choice(CLOSINGS).format(agent=agent),
    ])
    number = rng.randint(10000, 99999)
    return (f"Ticket #{number} | Product: {product} | Topic: {topic}\n"
            f"Customer: {customer}\nAgent: {agent_text}")


def billing_ticket(rng: random.Random) -> str:
    _, says, reply = rng.choice(BILLING)
    name, agent = rng.choice(CUSTOMERS), rng.choice(AGENTS)
    order = rng.randint(100000, 999999)
    day = rng.choice(DAYS)
    day2 = DAYS[(DAYS.index(day) + 2) % len(DAYS)]
    says = says.format(order=order, day=day)
    customer = f"{rng.choice(OPENINGS)}{says}. {rng.choice(BILLING_ASKS)}"
    customer = customer[0].upper() + customer[1:]
    agent_text = " ".join([
        rng.choice(GREETINGS).format(name=name),
        reply.format(order=order, day2=day2) + ".",
        "Is there anything else I can help you with?",
        rng.choice(CLOSINGS).format(agent=agent),
    ])
    number = rng.randint(10000, 99999)
    return (f"Ticket #{number} | Product: none | Topic: billing\n"
            f"Customer: {customer}\nAgent: {agent_text}")


def generate(seed: int = SEED):
    rng = random.Random(seed)
    seen, tickets = set(), []
    while len(tickets) < N_TRAIN + N_VAL + N_TEST:
        t = billing_ticket(rng) if rng.random() < 0.2 else product_ticket(rng)
        body = t.split("\n", 1)[1]  # the ticket number alone does not make a new ticket
        if body in seen:
            continue
        seen.add(body)
        tickets.append(t)
    train = tickets[:N_TRAIN]
    val = tickets[N_TRAIN:N_TRAIN + N_VAL]
    test = tickets[N_TRAIN + N_VAL:]
    files = {
        "data/tickets-train.txt": "\n\n".join(train) + "\n",
        "data/tickets-val.txt": "\n\n".join(val) + "\n",
        "data/tickets-test.jsonl": "".join(
            json.dumps({"id": f"t{i:04d}", "text": t}) + "\n" for i, t in enumerate(test, 1)),
    }
    return files


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."),
                    help="the quickstart directory (default: this script's parent)")
    ap.add_argument("--check", action="store_true", help="verify the files instead of writing them")
    args = ap.parse_args()
    stale = 0
    for rel, text in generate().items():
        path = os.path.join(args.root, rel)
        if args.check:
            try:
                with open(path, encoding="utf-8") as f:
                    same = f.read() == text
            except FileNotFoundError:
                same = False
            print(f"{'ok   ' if same else 'STALE'} {rel}")
            stale += not same
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        print(f"wrote {rel} ({len(text.encode())} bytes)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
