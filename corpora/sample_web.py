"""Deterministic demo sample of crawled web pages, written as real WARC files.

The sample is the demo input for the web-text extraction pipeline (HTML to text,
language identification, quality filters, near-duplicate removal).  Everything is
generated from a seed with :mod:`random` and written with :mod:`warcio`, so the same
seed always gives byte-identical files.  No network access is needed.

What ends up in ``out_dir``:

* ``sample-00000.warc.gz`` ... ``sample-NNNNN.warc.gz``: one ``warcinfo`` record per
  file, then HTTP ``response`` records (some preceded by a ``request`` record, as
  Common Crawl does).  The responses are multilingual article pages with navigation,
  sidebar and footer boilerplate; near-duplicates and exact duplicates of some of them
  at other URLs; spam-like / low-quality pages; a few non-HTML responses (PNG, PDF,
  plain text) and non-200 responses (404, 301).
* ``sample-broken.warc.gz``: a single gzip member holding a WARC in which one record's
  ``Content-Length`` is larger than its real block, with good records before and after.
* ``sample-truncated.warc.gz``: a valid per-record gzipped WARC cut off at 70% of its
  bytes.
"""

import argparse
import dataclasses
import gzip
import html
import io
import json
import os
import random
import struct
import unicodedata
import uuid
import zlib
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

__all__ = ["write_sample"]

# ---------------------------------------------------------------------------
# Language data: sentence banks, titles, slot values and UI strings.
# Sentences may contain the slots {town}, {name}, {day}, {year} (fixed per page)
# and {num}, {big} (drawn per sentence).
# ---------------------------------------------------------------------------

_SLOTS: dict[str, dict[str, list[str]]] = {
    "en": {
        "town": ["Millbrook", "Ashford", "Kingsbridge", "Riverton", "Oakham", "Port Ellis",
                 "Westfield", "Harrowgate"],
        "name": ["Margaret Hill", "David Osei", "Sarah Collins", "Tom Whitaker", "Priya Nair",
                 "James O'Connor", "Helen Park"],
        "day": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
    },
    "de": {
        "town": ["Lüneburg", "Rottweil", "Meersburg", "Wernigerode", "Bamberg", "Husum",
                 "Eberswalde", "Bad Tölz"],
        "name": ["Anna Becker", "Jürgen Schulz", "Katrin Hoffmann", "Lukas Wagner",
                 "Sabine Krüger", "Mehmet Yilmaz", "Petra Neumann"],
        "day": ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag"],
    },
    "fr": {
        "town": ["Annecy", "Dinan", "Colmar", "Sarlat", "Honfleur", "Aurillac", "Vannes",
                 "Millau"],
        "name": ["Claire Dubois", "Julien Moreau", "Nathalie Girard", "Antoine Lefèvre",
                 "Sophie Martin", "Karim Benali", "Élodie Roux"],
        "day": ["lundi", "mardi", "mercredi", "jeudi", "vendredi"],
    },
    "es": {
        "town": ["Cuenca", "Ronda", "Cáceres", "Teruel", "Lugo", "Úbeda", "Gijón", "Tarifa"],
        "name": ["Lucía Fernández", "Javier Ortega", "Carmen Ruiz", "Pablo Navarro",
                 "Marta Gil", "Andrés Molina", "Elena Castro"],
        "day": ["lunes", "martes", "miércoles", "jueves", "viernes"],
    },
    "it": {
        "town": ["Lucca", "Matera", "Bergamo", "Orvieto", "Trapani", "Cremona"],
        "name": ["Giulia Rossi", "Marco Bianchi", "Francesca Conti", "Luca Ferrari",
                 "Chiara Greco"],
        "day": ["lunedì", "martedì", "mercoledì", "giovedì", "venerdì"],
    },
    "nl": {
        "town": ["Zwolle", "Deventer", "Alkmaar", "Gouda", "Leeuwarden", "Middelburg"],
        "name": ["Sanne de Vries", "Pieter Jansen", "Femke Bakker", "Joris Visser",
                 "Lotte Smit"],
        "day": ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag"],
    },
    "pt": {
        "town": ["Évora", "Braga", "Tavira", "Viseu", "Coimbra", "Aveiro"],
        "name": ["Ana Sousa", "João Pereira", "Inês Costa", "Rui Almeida", "Beatriz Santos"],
        "day": ["segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira"],
    },
    "zh": {
        "town": ["杭州", "成都", "苏州", "西安", "厦门", "青岛"],
        "name": ["王师傅", "李阿姨", "张先生", "陈女士", "刘老师"],
        "day": ["周一", "周二", "周三", "周四", "周五"],
    },
    "ja": {
        "town": ["金沢", "松本", "函館", "尾道", "高山"],
        "name": ["田中さん", "佐藤さん", "鈴木さん", "山本さん", "中村さん"],
        "day": ["月曜日", "火曜日", "水曜日", "木曜日", "金曜日"],
    },
}

# "generic" sentences fit any topic; the first one of each list is an intro sentence.
_BANK: dict[str, dict] = {
    "en": {
        "topics": {
            "cooking": [
                "The secret to a good risotto is patience, so add the warm stock one ladle at a time and keep stirring.",
                "My grandmother always said that a soup tastes better on the second day, and after years of cooking I have to agree with her.",
                "Toast the cumin seeds in a dry pan for about a minute until they smell nutty, then grind them with a pinch of salt.",
                "If the dough feels too sticky, resist the temptation to add more flour and let it rest for {num} minutes instead.",
                "We tested this recipe {num} times before we were happy with the balance between the lemon and the garlic.",
                "Leftover roast vegetables can be turned into a quick frittata with a few eggs and a handful of grated cheese.",
                "A sharp knife is safer than a dull one, because it does not slip when you slice through a ripe tomato.",
                "{name}, who runs a small bakery in {town}, starts the sourdough at four o'clock every morning.",
                "Serve the stew with crusty bread and a simple green salad dressed with olive oil and vinegar.",
                "The sauce can be kept in the fridge for up to three days, which makes it ideal for busy weeknights.",
            ],
            "travel": [
                "We arrived in {town} late in the evening, just as the last ferry was pulling away from the harbour.",
                "The old town is best explored on foot, and most of the museums are within a ten-minute walk of the main square.",
                "Trains between the two cities run every hour, and a return ticket costs around {big} dollars if you book in advance.",
                "Our guide, a retired teacher named {name}, knew the story behind almost every building we passed.",
                "If you are travelling in the summer, bring a refillable water bottle and start your hikes before the midday heat.",
                "The small guesthouse where we stayed had only {num} rooms, but breakfast was served on a terrace overlooking the valley.",
                "Many visitors skip the northern coast, which is a shame, because the beaches there are quiet and the seafood is excellent.",
                "It is worth learning a few words of the local language, since people in the villages rarely speak English.",
                "On our last day we rented bicycles and followed the river path for almost {num} hours.",
                "Public transport passes can be bought at any newsstand, and they are valid on buses, trams and the metro.",
            ],
            "science": [
                "Researchers at the university of {town} have found that some bacteria can survive for weeks on dry surfaces.",
                "The study followed {big} volunteers over a period of {num} years and measured how much they slept each night.",
                "According to the authors, the results should be treated with caution until they are confirmed by a larger trial.",
                "The telescope will be able to detect the faint light of galaxies that formed shortly after the Big Bang.",
                "Climate scientists warn that the average temperature of the ocean surface has reached a new record this year.",
                "{name}, who led the project, said the team was surprised by how quickly the cells adapted to the new environment.",
                "Bees appear to use the position of the sun to remember the location of flowers they have visited before.",
                "The new battery design uses cheap and widely available materials, which could make energy storage much more affordable.",
                "Scientists still do not fully understand why we dream, although several theories have been proposed over the past century.",
                "The experiment was repeated in three independent laboratories, and each of them obtained very similar results.",
            ],
            "local": [
                "The city council of {town} voted on {day} evening to extend the opening hours of the public library.",
                "Road works on the main bridge are expected to last until the end of the month, and drivers should plan for delays.",
                "More than {big} people attended the annual spring market, which raised money for the local hospital.",
                "Police are asking witnesses to come forward after a bicycle shop on the high street was broken into overnight.",
                "The new playground next to the primary school was opened by the mayor, {name}, who thanked the parents for their support.",
                "Residents have complained for years about the lack of parking spaces near the railway station.",
                "The local football club won its third match in a row and now sits at the top of the regional league.",
                "A public meeting about the planned wind farm will be held in the community hall next {day}.",
                "Volunteers collected nearly {num} tonnes of litter from the riverbanks during the weekend clean-up.",
                "The bakery on Church Street, which has been run by the same family since {year}, will close its doors in June.",
            ],
            "history": [
                "The castle was built in the twelfth century to protect the river crossing from raiders coming from the north.",
                "In {year}, a fire destroyed most of the wooden houses in the town centre, and the streets were rebuilt in stone.",
                "Historians believe that the road follows the route of an older Roman trade path.",
                "The letters, discovered in an attic in {town}, describe daily life during the long winter of the siege.",
                "For centuries the monastery was an important centre of learning, with a library of several thousand manuscripts.",
                "The railway reached the valley in {year} and changed the local economy almost overnight.",
                "Many of the workers who built the canal came from distant regions and lived in simple huts along its banks.",
                "The museum's collection includes coins, tools and pottery found during excavations in the early twentieth century.",
                "Local historian {name} has spent more than a decade tracing the families who emigrated from the village.",
                "After the war, the old market hall was used as a school, a cinema and finally as a warehouse.",
            ],
            "gardening": [
                "Tomatoes need at least six hours of direct sunlight a day, so choose the brightest corner of your garden.",
                "Autumn is the best time to plant tulip bulbs, ideally about {num} weeks before the first frost.",
                "A thick layer of mulch keeps the soil moist during dry spells and stops weeds from taking over the beds.",
                "Do not throw away your coffee grounds, because they make an excellent addition to the compost heap.",
                "If the leaves of your roses turn yellow, the plant may be getting too much water rather than too little.",
                "My neighbour {name} grows more than {num} different kinds of beans on a plot that is barely larger than a garage.",
                "Slugs can be kept away from young lettuce with a ring of crushed eggshells or a shallow dish of beer.",
                "Prune fruit trees in late winter, when the branches are bare and it is easy to see their shape.",
                "Herbs such as rosemary and thyme prefer poor, well-drained soil and rarely need any fertiliser.",
                "Collecting rainwater in a barrel is an easy way to save money and keep your plants healthy in summer.",
            ],
        },
        "generic": [
            "In this article we look at the questions our readers have sent us most often over the past few months.",
            "As always, we would love to hear about your own experiences in the comments.",
            "It is a small change, but it can make a real difference over the course of a year.",
            "Of course, not everyone agrees, and there are good arguments on both sides of the debate.",
            "We will publish a follow-up article once more information becomes available.",
            "This piece was first written for our weekly newsletter and has been updated for the website.",
        ],
        "titles": {
            "cooking": ["How to make a perfect risotto at home", "Five weeknight dinners that are ready in thirty minutes",
                        "What a baker in {town} taught me about bread", "Our favourite recipes for a cold autumn evening"],
            "travel": ["A long weekend in {town}: where to stay and what to eat", "Slow travel along the northern coast",
                       "Ten things we wish we had known before our trip", "By train and bicycle through the river valley"],
            "science": ["New study sheds light on how much we really sleep", "Why bees never forget a good flower",
                        "Cheaper batteries could change how we store energy", "Researchers in {town} report surprising results"],
            "local": ["Council approves longer library opening hours in {town}", "Spring market draws record crowds",
                      "Bridge works to cause delays until the end of the month", "Family bakery to close after decades on Church Street"],
            "history": ["The forgotten history of the old market hall", "Letters from an attic reveal life during the long winter",
                        "How the railway changed the valley", "Who built the canal? The story of the workers"],
            "gardening": ["Growing tomatoes in a small garden", "When to plant tulip bulbs",
                          "Natural ways to keep slugs away from your lettuce", "Why you should never throw away coffee grounds"],
        },
    },
    "de": {
        "topics": {
            "cooking": [
                "Das Geheimnis eines guten Risottos ist Geduld, deshalb wird die heiße Brühe nur nach und nach hinzugefügt.",
                "Meine Großmutter hat immer gesagt, dass ein Eintopf am zweiten Tag besser schmeckt, und ich muss ihr recht geben.",
                "Die Kartoffeln werden zuerst geschält und dann in gleich große Würfel geschnitten, damit sie gleichmäßig garen.",
                "Wenn der Teig zu klebrig ist, sollte man nicht sofort mehr Mehl hinzufügen, sondern ihn {num} Minuten ruhen lassen.",
                "Wir haben das Rezept {num} Mal ausprobiert, bis das Verhältnis von Zitrone und Knoblauch wirklich stimmte.",
                "Aus übrig gebliebenem Gemüse lässt sich mit ein paar Eiern und etwas Käse schnell ein Omelett zaubern.",
                "In ihrer kleinen Bäckerei in {town} beginnt {name} jeden Morgen um vier Uhr mit dem Sauerteig.",
                "Zum Gulasch passen frisches Bauernbrot und ein einfacher grüner Salat mit Essig und Öl.",
                "Die Soße hält sich im Kühlschrank bis zu drei Tage und eignet sich deshalb gut für stressige Wochentage.",
                "Ein scharfes Messer ist sicherer als ein stumpfes, weil es beim Schneiden einer reifen Tomate nicht abrutscht.",
            ],
            "travel": [
                "Wir kamen erst spät am Abend in {town} an, gerade als die letzte Fähre den Hafen verließ.",
                "Die Altstadt erkundet man am besten zu Fuß, denn die meisten Museen liegen nur wenige Minuten vom Marktplatz entfernt.",
                "Die Züge zwischen den beiden Städten fahren stündlich, und eine Fahrkarte kostet bei früher Buchung etwa {big} Euro.",
                "Durch die Stadt führte uns {name}, die fast zu jedem Haus eine Geschichte erzählen konnte.",
                "Wer im Sommer unterwegs ist, sollte eine Wasserflasche mitnehmen und Wanderungen früh am Morgen beginnen.",
                "Die kleine Pension hatte nur {num} Zimmer, aber das Frühstück wurde auf einer Terrasse mit Blick ins Tal serviert.",
                "Viele Besucher lassen die Nordküste aus, was schade ist, denn dort sind die Strände ruhig und der Fisch ist hervorragend.",
                "Es lohnt sich, ein paar Wörter der Landessprache zu lernen, weil man in den Dörfern selten Englisch spricht.",
                "Am letzten Tag liehen wir uns Fahrräder und folgten dem Radweg am Fluss fast {num} Stunden lang.",
                "Tickets für Bus und Straßenbahn bekommt man an jedem Kiosk, und sie gelten im gesamten Stadtgebiet.",
            ],
            "science": [
                "Forscher der Universität {town} haben herausgefunden, dass manche Bakterien wochenlang auf trockenen Oberflächen überleben.",
                "Für die Studie wurden {big} Freiwillige über {num} Jahre begleitet und ihr Schlaf jede Nacht gemessen.",
                "Nach Ansicht der Autoren sollten die Ergebnisse vorsichtig bewertet werden, bis eine größere Studie sie bestätigt.",
                "Das neue Teleskop soll das schwache Licht von Galaxien einfangen, die kurz nach dem Urknall entstanden sind.",
                "Klimaforscher warnen, dass die Temperatur der Meeresoberfläche in diesem Jahr einen neuen Rekord erreicht hat.",
                "Nach Angaben von {name} war das Team überrascht, wie schnell sich die Zellen an die neue Umgebung angepasst haben.",
                "Bienen orientieren sich offenbar am Stand der Sonne, um sich an Blüten zu erinnern, die sie bereits besucht haben.",
                "Die neue Batterie besteht aus günstigen und leicht verfügbaren Materialien, was Energiespeicher deutlich billiger machen könnte.",
                "Warum wir träumen, ist bis heute nicht vollständig geklärt, obwohl es dazu zahlreiche Theorien gibt.",
                "Das Experiment wurde in drei unabhängigen Laboren wiederholt, und alle kamen zu sehr ähnlichen Ergebnissen.",
            ],
            "local": [
                "Der Stadtrat von {town} hat am {day}abend beschlossen, die Öffnungszeiten der Stadtbibliothek zu verlängern.",
                "Die Bauarbeiten an der Hauptbrücke dauern voraussichtlich bis Ende des Monats, Autofahrer müssen mit Verzögerungen rechnen.",
                "Mehr als {big} Menschen besuchten den traditionellen Frühlingsmarkt, dessen Erlös dem Krankenhaus zugutekommt.",
                "Die Polizei sucht Zeugen, nachdem in der Nacht in ein Fahrradgeschäft in der Hauptstraße eingebrochen wurde.",
                "Der neue Spielplatz neben der Grundschule wurde am Wochenende eröffnet, und viele Eltern halfen beim Aufbau.",
                "Anwohner beklagen sich seit Jahren über fehlende Parkplätze in der Nähe des Bahnhofs.",
                "Der örtliche Fußballverein hat sein drittes Spiel in Folge gewonnen und führt nun die Tabelle an.",
                "Eine Bürgerversammlung zum geplanten Windpark findet am kommenden {day} im Gemeindehaus statt.",
                "Freiwillige sammelten am Wochenende fast {num} Tonnen Müll an den Ufern des Flusses.",
                "Die Bäckerei in der Kirchstraße, die seit {year} von derselben Familie geführt wird, schließt im Juni.",
            ],
            "history": [
                "Die Burg wurde im zwölften Jahrhundert errichtet, um den Flussübergang vor Angreifern aus dem Norden zu schützen.",
                "Im Jahr {year} zerstörte ein Brand die meisten Holzhäuser der Innenstadt, die danach aus Stein wieder aufgebaut wurden.",
                "Historiker vermuten, dass die Straße dem Verlauf eines alten römischen Handelsweges folgt.",
                "Die Briefe, die auf einem Dachboden in {town} gefunden wurden, beschreiben den Alltag während des langen Winters.",
                "Über Jahrhunderte war das Kloster ein wichtiges Zentrum der Gelehrsamkeit mit einer Bibliothek von mehreren tausend Handschriften.",
                "Im Jahr {year} erreichte die Eisenbahn das Tal und veränderte die Wirtschaft der Region fast über Nacht.",
                "Viele der Arbeiter, die den Kanal bauten, kamen aus entfernten Gegenden und lebten in einfachen Hütten am Ufer.",
                "Zur Sammlung des Museums gehören Münzen, Werkzeuge und Keramik, die bei Ausgrabungen gefunden wurden.",
                "Seit über zehn Jahren verfolgt {name} die Spuren der Familien, die aus dem Dorf ausgewandert sind.",
                "Nach dem Krieg diente die alte Markthalle als Schule, als Kino und schließlich als Lagerhaus.",
            ],
            "gardening": [
                "Tomaten brauchen mindestens sechs Stunden direkte Sonne am Tag, deshalb sollte man ihnen den hellsten Platz im Garten geben.",
                "Der Herbst ist die beste Zeit, um Tulpenzwiebeln zu setzen, am besten etwa {num} Wochen vor dem ersten Frost.",
                "Eine dicke Mulchschicht hält den Boden feucht und verhindert, dass Unkraut die Beete überwuchert.",
                "Kaffeesatz sollte man nicht wegwerfen, denn er ist eine hervorragende Ergänzung für den Komposthaufen.",
                "Wenn die Blätter der Rosen gelb werden, bekommt die Pflanze vielleicht zu viel Wasser und nicht zu wenig.",
                "Schnecken lassen sich mit einem Ring aus zerstoßenen Eierschalen von jungen Salatpflanzen fernhalten.",
                "Obstbäume schneidet man am besten im späten Winter, wenn die Äste kahl sind und man ihre Form gut erkennt.",
                "Kräuter wie Rosmarin und Thymian mögen magere, durchlässige Böden und brauchen kaum Dünger.",
                "Regenwasser in einer Tonne zu sammeln spart Geld und tut den Pflanzen im Sommer gut.",
                "Auf einem Stück Land, das kaum größer als eine Garage ist, zieht {name} mehr als {num} Bohnensorten.",
            ],
        },
        "generic": [
            "In diesem Artikel beantworten wir die Fragen, die uns unsere Leserinnen und Leser in den letzten Monaten am häufigsten geschickt haben.",
            "Wie immer freuen wir uns über Ihre eigenen Erfahrungen in den Kommentaren.",
            "Es ist nur eine kleine Veränderung, aber über ein ganzes Jahr gesehen macht sie einen großen Unterschied.",
            "Natürlich sind nicht alle dieser Meinung, und es gibt auf beiden Seiten gute Argumente.",
            "Sobald weitere Informationen vorliegen, werden wir einen Folgeartikel veröffentlichen.",
            "Dieser Text erschien zuerst in unserem wöchentlichen Newsletter und wurde für die Website überarbeitet.",
        ],
        "titles": {
            "cooking": ["So gelingt das perfekte Risotto", "Schnelle Rezepte für stressige Wochentage",
                        "Was ich in einer Bäckerei in {town} über Brot gelernt habe", "Unsere liebsten Rezepte für kalte Herbstabende"],
            "travel": ["Ein langes Wochenende in {town}", "Mit Zug und Fahrrad durch das Flusstal",
                       "Zehn Dinge, die wir vor unserer Reise gern gewusst hätten"],
            "science": ["Neue Studie: Wie viel schlafen wir wirklich?", "Warum Bienen eine gute Blüte nie vergessen",
                        "Günstigere Batterien für die Energiewende"],
            "local": ["Stadtrat verlängert Öffnungszeiten der Bibliothek", "Frühlingsmarkt lockt viele Besucher nach {town}",
                      "Bauarbeiten an der Hauptbrücke: Autofahrer brauchen Geduld"],
            "history": ["Die vergessene Geschichte der alten Markthalle", "Briefe vom Dachboden erzählen vom langen Winter",
                        "Wie die Eisenbahn das Tal veränderte"],
            "gardening": ["Tomaten im kleinen Garten anbauen", "Wann man Tulpenzwiebeln setzen sollte",
                          "Schnecken natürlich vom Salat fernhalten"],
        },
    },
    "fr": {
        "topics": {
            "cooking": [
                "Le secret d'un bon risotto, c'est la patience : on ajoute le bouillon chaud louche après louche en remuant sans cesse.",
                "Ma grand-mère disait toujours qu'une soupe est meilleure le lendemain, et je dois avouer qu'elle avait raison.",
                "Faites griller les graines de cumin à sec pendant une minute, puis écrasez-les avec une pincée de sel.",
                "Si la pâte colle trop, ne rajoutez pas de farine tout de suite et laissez-la plutôt reposer {num} minutes.",
                "Nous avons testé cette recette {num} fois avant de trouver le bon équilibre entre le citron et l'ail.",
                "Les restes de légumes rôtis se transforment facilement en omelette avec quelques œufs et un peu de fromage râpé.",
                "{name}, qui tient une petite boulangerie à {town}, commence son levain tous les matins à quatre heures.",
                "Servez le ragoût avec du pain de campagne et une salade verte assaisonnée d'huile d'olive et de vinaigre.",
                "La sauce se conserve trois jours au réfrigérateur, ce qui la rend idéale pour les soirs de semaine chargés.",
                "Un couteau bien aiguisé est plus sûr qu'un couteau émoussé, car il ne glisse pas sur la peau d'une tomate mûre.",
            ],
            "travel": [
                "Nous sommes arrivés à {town} tard dans la soirée, juste au moment où le dernier ferry quittait le port.",
                "La vieille ville se visite à pied, et la plupart des musées se trouvent à dix minutes de la place principale.",
                "Les trains entre les deux villes circulent toutes les heures, et un billet coûte environ {big} euros si l'on réserve tôt.",
                "Notre guide, {name}, connaissait l'histoire de presque chaque maison du quartier.",
                "En été, pensez à emporter une gourde et à partir en randonnée tôt le matin pour éviter la chaleur.",
                "La petite maison d'hôtes ne comptait que {num} chambres, mais le petit-déjeuner était servi sur une terrasse donnant sur la vallée.",
                "Beaucoup de visiteurs négligent la côte nord, et c'est dommage, car les plages y sont calmes et les fruits de mer excellents.",
                "Il vaut la peine d'apprendre quelques mots de la langue locale, car dans les villages on parle rarement anglais.",
                "Le dernier jour, nous avons loué des vélos et suivi la piste cyclable le long de la rivière pendant près de {num} heures.",
                "Les titres de transport s'achètent dans n'importe quel kiosque et sont valables dans les bus, les tramways et le métro.",
            ],
            "science": [
                "Des chercheurs de l'université de {town} ont découvert que certaines bactéries peuvent survivre plusieurs semaines sur des surfaces sèches.",
                "L'étude a suivi {big} volontaires pendant {num} ans et a mesuré la durée de leur sommeil chaque nuit.",
                "Selon les auteurs, ces résultats doivent être interprétés avec prudence jusqu'à leur confirmation par un essai plus large.",
                "Le nouveau télescope pourra capter la faible lumière des galaxies formées peu après le Big Bang.",
                "Les climatologues préviennent que la température de surface des océans a atteint un nouveau record cette année.",
                "D'après {name}, qui a dirigé le projet, l'équipe a été surprise par la rapidité avec laquelle les cellules se sont adaptées.",
                "Les abeilles semblent utiliser la position du soleil pour se souvenir de l'emplacement des fleurs déjà visitées.",
                "La nouvelle batterie utilise des matériaux bon marché et abondants, ce qui pourrait rendre le stockage de l'énergie beaucoup plus abordable.",
                "Les scientifiques ne savent toujours pas exactement pourquoi nous rêvons, même si de nombreuses théories ont été proposées.",
                "L'expérience a été répétée dans trois laboratoires indépendants, qui ont tous obtenu des résultats très proches.",
            ],
            "local": [
                "Le conseil municipal de {town} a voté {day} soir l'extension des horaires d'ouverture de la médiathèque.",
                "Les travaux sur le pont principal devraient durer jusqu'à la fin du mois, et les automobilistes doivent s'attendre à des retards.",
                "Plus de {big} personnes ont participé au marché de printemps, dont les bénéfices seront reversés à l'hôpital.",
                "La gendarmerie lance un appel à témoins après le cambriolage d'un magasin de vélos dans la rue principale.",
                "La nouvelle aire de jeux située à côté de l'école primaire a été inaugurée samedi en présence de nombreux parents.",
                "Depuis des années, les habitants se plaignent du manque de places de stationnement près de la gare.",
                "Le club de football local a remporté son troisième match consécutif et prend la tête du championnat régional.",
                "Une réunion publique sur le projet de parc éolien aura lieu {day} prochain à la salle des fêtes.",
                "Des bénévoles ont ramassé près de {num} tonnes de déchets sur les berges de la rivière ce week-end.",
                "La boulangerie de la rue de l'Église, tenue par la même famille depuis {year}, fermera ses portes en juin.",
            ],
            "history": [
                "Le château fut construit au douzième siècle pour protéger le passage de la rivière contre les pillards venus du nord.",
                "En {year}, un incendie détruisit la plupart des maisons en bois du centre-ville, qui furent reconstruites en pierre.",
                "Les historiens pensent que la route suit le tracé d'une ancienne voie commerciale romaine.",
                "Les lettres retrouvées dans un grenier à {town} décrivent la vie quotidienne pendant le long hiver du siège.",
                "Pendant des siècles, l'abbaye fut un centre de savoir important, avec une bibliothèque de plusieurs milliers de manuscrits.",
                "Le chemin de fer atteignit la vallée en {year} et transforma l'économie locale presque du jour au lendemain.",
                "Beaucoup d'ouvriers qui creusèrent le canal venaient de régions lointaines et vivaient dans des cabanes le long des berges.",
                "La collection du musée comprend des pièces de monnaie, des outils et des poteries découverts lors de fouilles.",
                "Depuis plus de dix ans, {name} retrace l'histoire des familles qui ont quitté le village pour émigrer.",
                "Après la guerre, l'ancienne halle servit successivement d'école, de cinéma puis d'entrepôt.",
            ],
            "gardening": [
                "Les tomates ont besoin d'au moins six heures de soleil direct par jour, choisissez donc le coin le plus lumineux du jardin.",
                "L'automne est la meilleure saison pour planter les bulbes de tulipes, idéalement {num} semaines avant les premières gelées.",
                "Une épaisse couche de paillis garde la terre humide et empêche les mauvaises herbes d'envahir les massifs.",
                "Ne jetez pas votre marc de café, car il enrichit très bien le compost.",
                "Si les feuilles de vos rosiers jaunissent, la plante reçoit peut-être trop d'eau plutôt que pas assez.",
                "Sur une parcelle à peine plus grande qu'un garage, {name} cultive plus de {num} variétés de haricots.",
                "Un cercle de coquilles d'œufs écrasées éloigne les limaces des jeunes salades.",
                "On taille les arbres fruitiers à la fin de l'hiver, quand les branches sont nues et que leur forme est bien visible.",
                "Les herbes comme le romarin et le thym préfèrent un sol pauvre et bien drainé et n'ont presque jamais besoin d'engrais.",
                "Récupérer l'eau de pluie dans un tonneau permet de faire des économies et de garder les plantes en bonne santé en été.",
            ],
        },
        "generic": [
            "Dans cet article, nous répondons aux questions que nos lecteurs nous ont le plus souvent envoyées ces derniers mois.",
            "Comme toujours, n'hésitez pas à partager votre propre expérience dans les commentaires.",
            "C'est un petit changement, mais sur une année entière, il peut faire une vraie différence.",
            "Bien sûr, tout le monde n'est pas d'accord, et il existe de bons arguments des deux côtés.",
            "Nous publierons un nouvel article dès que nous aurons plus d'informations.",
            "Ce texte a d'abord été publié dans notre lettre d'information hebdomadaire, puis mis à jour pour le site.",
        ],
        "titles": {
            "cooking": ["Réussir un risotto parfait à la maison", "Des recettes rapides pour les soirs de semaine",
                        "Ce qu'une boulangerie de {town} m'a appris sur le pain"],
            "travel": ["Un long week-end à {town}", "En train et à vélo le long de la rivière",
                       "Dix choses à savoir avant de partir"],
            "science": ["Une nouvelle étude sur la durée de notre sommeil", "Pourquoi les abeilles n'oublient jamais une fleur",
                        "Des batteries moins chères pour stocker l'énergie"],
            "local": ["La médiathèque de {town} ouvrira plus longtemps", "Le marché de printemps attire la foule",
                      "Travaux sur le pont principal : des retards à prévoir"],
            "history": ["L'histoire oubliée de l'ancienne halle", "Des lettres retrouvées dans un grenier racontent l'hiver du siège",
                        "Comment le chemin de fer a transformé la vallée"],
            "gardening": ["Cultiver des tomates dans un petit jardin", "Quand planter les bulbes de tulipes",
                          "Éloigner les limaces sans produits chimiques"],
        },
    },
    "es": {
        "topics": {
            "cooking": [
                "El secreto de un buen arroz es la paciencia, así que conviene añadir el caldo caliente poco a poco.",
                "Mi abuela siempre decía que el cocido sabe mejor al día siguiente, y después de tantos años tengo que darle la razón.",
                "Tuesta las semillas de comino en una sartén sin aceite durante un minuto y después muélelas con una pizca de sal.",
                "Si la masa está demasiado pegajosa, no añadas más harina enseguida y déjala reposar {num} minutos.",
                "Probamos esta receta {num} veces hasta conseguir el equilibrio perfecto entre el limón y el ajo.",
                "Las verduras asadas que sobran se pueden convertir en una tortilla rápida con unos huevos y un poco de queso.",
                "{name}, que tiene una pequeña panadería en {town}, empieza a preparar la masa madre cada mañana a las cuatro.",
                "Sirve el guiso con pan de pueblo y una ensalada verde aliñada con aceite de oliva y vinagre.",
                "La salsa se conserva en la nevera hasta tres días, por lo que es ideal para las noches de diario.",
                "Un cuchillo bien afilado es más seguro que uno sin filo, porque no resbala al cortar un tomate maduro.",
            ],
            "travel": [
                "Llegamos a {town} a última hora de la tarde, justo cuando el último ferri salía del puerto.",
                "El casco antiguo se recorre mejor a pie, y la mayoría de los museos están a diez minutos de la plaza mayor.",
                "Los trenes entre las dos ciudades salen cada hora, y un billete cuesta unos {big} euros si se compra con antelación.",
                "Nos acompañó {name}, que conocía la historia de casi todos los edificios del barrio.",
                "Si viajas en verano, lleva una botella de agua y empieza las caminatas temprano para evitar el calor.",
                "La pequeña casa rural tenía solo {num} habitaciones, pero el desayuno se servía en una terraza con vistas al valle.",
                "Muchos visitantes se saltan la costa norte, y es una pena, porque allí las playas son tranquilas y el marisco es excelente.",
                "Merece la pena aprender algunas palabras del idioma local, ya que en los pueblos casi nadie habla inglés.",
                "El último día alquilamos bicicletas y seguimos el camino junto al río durante casi {num} horas.",
                "Los abonos de transporte se pueden comprar en cualquier quiosco y valen para el autobús, el tranvía y el metro.",
            ],
            "science": [
                "Investigadores de la Universidad de {town} han descubierto que algunas bacterias pueden sobrevivir semanas en superficies secas.",
                "El estudio siguió a {big} voluntarios durante {num} años y midió cuántas horas dormían cada noche.",
                "Según los autores, los resultados deben interpretarse con cautela hasta que un ensayo más amplio los confirme.",
                "El nuevo telescopio podrá captar la débil luz de galaxias que se formaron poco después del Big Bang.",
                "Los climatólogos advierten que la temperatura de la superficie del mar ha alcanzado este año un nuevo récord.",
                "Según {name}, responsable del proyecto, el equipo se sorprendió de la rapidez con la que las células se adaptaron.",
                "Las abejas parecen utilizar la posición del sol para recordar dónde están las flores que ya han visitado.",
                "La nueva batería utiliza materiales baratos y abundantes, lo que podría abaratar mucho el almacenamiento de energía.",
                "Los científicos todavía no saben con certeza por qué soñamos, aunque se han propuesto muchas teorías.",
                "El experimento se repitió en tres laboratorios independientes, y todos obtuvieron resultados muy parecidos.",
            ],
            "local": [
                "El pleno del ayuntamiento de {town} aprobó el {day} por la noche ampliar el horario de la biblioteca municipal.",
                "Las obras del puente principal se prolongarán hasta final de mes, por lo que se esperan retrasos en el tráfico.",
                "Más de {big} personas visitaron el tradicional mercado de primavera, cuya recaudación se destinará al hospital.",
                "La policía busca testigos después de que una tienda de bicicletas de la calle Mayor fuera asaltada durante la noche.",
                "El nuevo parque infantil junto al colegio se inauguró el sábado con la presencia de muchas familias del barrio.",
                "Los vecinos llevan años quejándose de la falta de aparcamiento cerca de la estación de tren.",
                "El equipo de fútbol local ganó su tercer partido consecutivo y ya es líder de la liga regional.",
                "El próximo {day} se celebrará en el centro cívico una reunión informativa sobre el parque eólico.",
                "Los voluntarios recogieron casi {num} toneladas de basura en las orillas del río durante el fin de semana.",
                "La panadería de la calle de la Iglesia, que regenta la misma familia desde {year}, cerrará sus puertas en junio.",
            ],
            "history": [
                "El castillo se construyó en el siglo XII para proteger el paso del río de los ataques que llegaban del norte.",
                "En {year}, un incendio destruyó la mayoría de las casas de madera del centro, que se reconstruyeron en piedra.",
                "Los historiadores creen que el camino sigue el trazado de una antigua ruta comercial romana.",
                "Las cartas halladas en un desván de {town} describen la vida cotidiana durante el largo invierno del asedio.",
                "Durante siglos, el monasterio fue un importante centro de saber, con una biblioteca de varios miles de manuscritos.",
                "El ferrocarril llegó al valle en {year} y transformó la economía local casi de la noche a la mañana.",
                "Muchos de los obreros que construyeron el canal venían de regiones lejanas y vivían en chozas junto a sus orillas.",
                "La colección del museo incluye monedas, herramientas y cerámica encontradas en excavaciones de principios del siglo XX.",
                "Desde hace más de una década, {name} reconstruye la historia de las familias que emigraron del pueblo.",
                "Después de la guerra, el antiguo mercado sirvió de escuela, de cine y finalmente de almacén.",
            ],
            "gardening": [
                "Los tomates necesitan al menos seis horas de sol directo al día, así que elige el rincón más luminoso del huerto.",
                "El otoño es la mejor época para plantar bulbos de tulipán, idealmente unas {num} semanas antes de las primeras heladas.",
                "Una buena capa de acolchado mantiene la tierra húmeda y evita que las malas hierbas invadan los bancales.",
                "No tires los posos del café, porque son un excelente complemento para el compost.",
                "Si las hojas de tus rosales se ponen amarillas, es posible que la planta reciba demasiada agua y no demasiado poca.",
                "En una parcela apenas más grande que un garaje, {name} cultiva más de {num} variedades de judías.",
                "Un círculo de cáscaras de huevo trituradas mantiene a los caracoles lejos de las lechugas jóvenes.",
                "Los árboles frutales se podan a finales del invierno, cuando las ramas están desnudas y se ve bien su forma.",
                "Hierbas como el romero y el tomillo prefieren suelos pobres y bien drenados y casi nunca necesitan abono.",
                "Recoger el agua de lluvia en un bidón es una forma sencilla de ahorrar dinero y cuidar las plantas en verano.",
            ],
        },
        "generic": [
            "En este artículo respondemos a las preguntas que más nos han enviado nuestros lectores en los últimos meses.",
            "Como siempre, nos encantará conocer vuestra experiencia en los comentarios.",
            "Es un cambio pequeño, pero a lo largo de un año puede marcar una gran diferencia.",
            "Por supuesto, no todo el mundo está de acuerdo, y hay buenos argumentos en ambos lados.",
            "Publicaremos un nuevo artículo en cuanto dispongamos de más información.",
            "Este texto se publicó primero en nuestro boletín semanal y se ha actualizado para la web.",
        ],
        "titles": {
            "cooking": ["Cómo preparar un arroz perfecto en casa", "Recetas rápidas para las noches de diario",
                        "Lo que aprendí sobre el pan en una panadería de {town}"],
            "travel": ["Un fin de semana largo en {town}", "En tren y en bicicleta por el valle del río",
                       "Diez cosas que nos habría gustado saber antes del viaje"],
            "science": ["Un nuevo estudio analiza cuánto dormimos realmente", "Por qué las abejas nunca olvidan una flor",
                        "Baterías más baratas para almacenar energía"],
            "local": ["La biblioteca de {town} ampliará su horario", "El mercado de primavera bate récords de visitantes",
                      "Las obras del puente principal provocarán retrasos"],
            "history": ["La historia olvidada del antiguo mercado", "Unas cartas halladas en un desván relatan el largo invierno",
                        "Cómo el ferrocarril transformó el valle"],
            "gardening": ["Cultivar tomates en un huerto pequeño", "Cuándo plantar los bulbos de tulipán",
                          "Trucos naturales para alejar a los caracoles"],
        },
    },
    "it": {
        "topics": {
            "cooking": [
                "Il segreto di un buon risotto è la pazienza: il brodo caldo va aggiunto un mestolo alla volta, mescolando sempre.",
                "Mia nonna diceva sempre che il minestrone è più buono il giorno dopo, e devo ammettere che aveva ragione.",
                "Se l'impasto è troppo appiccicoso, non aggiungete subito altra farina ma lasciatelo riposare per {num} minuti.",
                "{name}, che gestisce un piccolo forno a {town}, comincia a preparare il pane ogni mattina alle quattro.",
                "Le verdure avanzate si possono trasformare in una frittata veloce con qualche uovo e un po' di formaggio grattugiato.",
                "Servite lo stufato con pane casereccio e un'insalata verde condita con olio d'oliva e aceto.",
                "La salsa si conserva in frigorifero fino a tre giorni ed è perfetta per le serate più impegnate.",
            ],
            "travel": [
                "Siamo arrivati a {town} in tarda serata, proprio mentre l'ultimo traghetto lasciava il porto.",
                "Il centro storico si visita comodamente a piedi e quasi tutti i musei si trovano a pochi minuti dalla piazza principale.",
                "I treni tra le due città partono ogni ora e un biglietto costa circa {big} euro se lo si prenota in anticipo.",
                "La piccola pensione aveva solo {num} camere, ma la colazione veniva servita su una terrazza con vista sulla valle.",
                "Molti turisti trascurano la costa settentrionale, ed è un peccato, perché le spiagge sono tranquille e il pesce è ottimo.",
                "L'ultimo giorno abbiamo noleggiato le biciclette e seguito la pista ciclabile lungo il fiume per quasi {num} ore.",
                "Vale la pena imparare qualche parola del dialetto locale, perché nei paesi pochi parlano inglese.",
            ],
            "local": [
                "Il consiglio comunale di {town} ha approvato {day} sera il prolungamento dell'orario di apertura della biblioteca.",
                "I lavori sul ponte principale dureranno fino alla fine del mese e gli automobilisti devono aspettarsi dei ritardi.",
                "Più di {big} persone hanno partecipato alla tradizionale fiera di primavera, il cui ricavato andrà all'ospedale.",
                "I residenti si lamentano da anni della mancanza di parcheggi vicino alla stazione ferroviaria.",
                "La squadra di calcio locale ha vinto la terza partita consecutiva ed è ora in testa al campionato regionale.",
                "Nel fine settimana i volontari hanno raccolto quasi {num} tonnellate di rifiuti lungo le rive del fiume.",
                "Il panificio di via della Chiesa, gestito dalla stessa famiglia dal {year}, chiuderà a giugno.",
            ],
        },
        "generic": [
            "In questo articolo rispondiamo alle domande che i nostri lettori ci hanno inviato più spesso negli ultimi mesi.",
            "Come sempre, raccontateci la vostra esperienza nei commenti.",
            "È un piccolo cambiamento, ma nel corso di un anno può fare una grande differenza.",
            "Pubblicheremo un nuovo articolo non appena avremo maggiori informazioni.",
        ],
        "titles": {
            "cooking": ["Come preparare un risotto perfetto", "Ricette veloci per le sere di tutti i giorni"],
            "travel": ["Un lungo fine settimana a {town}", "In bicicletta lungo il fiume"],
            "local": ["{town}, la biblioteca resterà aperta più a lungo", "Fiera di primavera, record di visitatori"],
        },
    },
    "nl": {
        "topics": {
            "cooking": [
                "Het geheim van een goede risotto is geduld, dus voeg de warme bouillon beetje bij beetje toe en blijf roeren.",
                "Mijn oma zei altijd dat soep de tweede dag lekkerder smaakt, en daar had ze volkomen gelijk in.",
                "Als het deeg te plakkerig is, voeg dan niet meteen meer bloem toe maar laat het {num} minuten rusten.",
                "{name}, die een kleine bakkerij in {town} heeft, begint elke ochtend om vier uur met het zuurdesembrood.",
                "Overgebleven geroosterde groenten kun je met een paar eieren en wat geraspte kaas snel omtoveren tot een omelet.",
                "Serveer de stoofpot met stevig brood en een eenvoudige groene salade met olijfolie en azijn.",
                "De saus blijft in de koelkast tot drie dagen goed en is daarom ideaal voor drukke doordeweekse avonden.",
            ],
            "gardening": [
                "Tomaten hebben minstens zes uur direct zonlicht per dag nodig, dus kies de zonnigste plek in je tuin.",
                "De herfst is de beste tijd om tulpenbollen te planten, het liefst ongeveer {num} weken voor de eerste vorst.",
                "Een dikke laag mulch houdt de grond vochtig en voorkomt dat onkruid de borders overneemt.",
                "Gooi je koffiedik niet weg, want het is een uitstekende aanvulling op de composthoop.",
                "Als de bladeren van je rozen geel worden, krijgt de plant misschien juist te veel water in plaats van te weinig.",
                "Fruitbomen snoei je het beste aan het einde van de winter, wanneer de takken kaal zijn en je de vorm goed ziet.",
                "Regenwater opvangen in een ton is een makkelijke manier om geld te besparen en je planten gezond te houden.",
            ],
            "local": [
                "De gemeenteraad van {town} heeft {day}avond besloten de openingstijden van de bibliotheek te verruimen.",
                "De werkzaamheden aan de hoofdbrug duren naar verwachting tot het einde van de maand, dus automobilisten moeten rekening houden met vertraging.",
                "Meer dan {big} mensen bezochten de jaarlijkse voorjaarsmarkt, waarvan de opbrengst naar het ziekenhuis gaat.",
                "Bewoners klagen al jaren over het gebrek aan parkeerplaatsen in de buurt van het station.",
                "De plaatselijke voetbalclub won de derde wedstrijd op rij en staat nu bovenaan in de competitie.",
                "Vrijwilligers haalden tijdens het weekend bijna {num} ton afval van de oevers van de rivier.",
                "De bakkerij in de Kerkstraat, die sinds {year} door dezelfde familie wordt gerund, sluit in juni de deuren.",
            ],
        },
        "generic": [
            "In dit artikel beantwoorden we de vragen die onze lezers ons de afgelopen maanden het vaakst hebben gestuurd.",
            "Zoals altijd horen we graag jullie eigen ervaringen in de reacties.",
            "Het is een kleine verandering, maar over een heel jaar gezien maakt het echt verschil.",
            "We publiceren een vervolgartikel zodra er meer informatie beschikbaar is.",
        ],
        "titles": {
            "cooking": ["Zo maak je de perfecte risotto", "Snelle recepten voor doordeweekse avonden"],
            "gardening": ["Tomaten kweken in een kleine tuin", "Wanneer plant je tulpenbollen?"],
            "local": ["Bibliotheek in {town} langer open", "Voorjaarsmarkt trekt recordaantal bezoekers"],
        },
    },
    "pt": {
        "topics": {
            "cooking": [
                "O segredo de um bom arroz é a paciência, por isso convém juntar o caldo quente aos poucos.",
                "A minha avó dizia sempre que a sopa fica melhor no dia seguinte, e tenho de admitir que tinha razão.",
                "Se a massa estiver demasiado pegajosa, não junte logo mais farinha e deixe-a descansar {num} minutos.",
                "{name}, que tem uma pequena padaria em {town}, começa a preparar o pão todas as manhãs às quatro horas.",
                "Os legumes assados que sobram podem transformar-se numa omelete rápida com alguns ovos e um pouco de queijo.",
                "Sirva o guisado com pão caseiro e uma salada verde temperada com azeite e vinagre.",
                "O molho conserva-se no frigorífico até três dias, o que o torna ideal para os dias de semana mais cheios.",
            ],
            "travel": [
                "Chegámos a {town} ao fim da tarde, precisamente quando o último barco saía do porto.",
                "O centro histórico visita-se melhor a pé, e a maioria dos museus fica a poucos minutos da praça principal.",
                "Os comboios entre as duas cidades partem de hora a hora e um bilhete custa cerca de {big} euros se for comprado com antecedência.",
                "A pequena casa de hóspedes tinha apenas {num} quartos, mas o pequeno-almoço era servido num terraço com vista para o vale.",
                "Muitos visitantes ignoram a costa norte, o que é uma pena, porque as praias são calmas e o marisco é excelente.",
                "No último dia alugámos bicicletas e seguimos o caminho ao longo do rio durante quase {num} horas.",
                "Vale a pena aprender algumas palavras da língua local, porque nas aldeias pouca gente fala inglês.",
            ],
            "science": [
                "Investigadores da Universidade de {town} descobriram que algumas bactérias conseguem sobreviver semanas em superfícies secas.",
                "O estudo acompanhou {big} voluntários durante {num} anos e mediu quantas horas dormiam por noite.",
                "Segundo os autores, os resultados devem ser interpretados com cautela até serem confirmados por um ensaio maior.",
                "O novo telescópio vai conseguir captar a luz fraca de galáxias que se formaram pouco depois do Big Bang.",
                "As abelhas parecem usar a posição do sol para se lembrarem do local das flores que já visitaram.",
                "A nova bateria usa materiais baratos e abundantes, o que poderia tornar o armazenamento de energia muito mais acessível.",
                "A experiência foi repetida em três laboratórios independentes, e todos obtiveram resultados muito semelhantes.",
            ],
        },
        "generic": [
            "Neste artigo respondemos às perguntas que os nossos leitores nos enviaram com mais frequência nos últimos meses.",
            "Como sempre, gostaríamos de conhecer a vossa experiência nos comentários.",
            "É uma pequena mudança, mas ao longo de um ano pode fazer uma grande diferença.",
            "Publicaremos um novo artigo assim que houver mais informações.",
        ],
        "titles": {
            "cooking": ["Como fazer um arroz perfeito em casa", "Receitas rápidas para os dias de semana"],
            "travel": ["Um fim de semana prolongado em {town}", "De bicicleta ao longo do rio"],
            "science": ["Novo estudo revela quanto dormimos realmente", "Porque é que as abelhas nunca esquecem uma flor"],
        },
    },
    "zh": {
        "topics": {
            "cooking": [
                "做红烧肉的关键在于火候，先用大火把肉煎出油，再转小火慢慢炖一个小时。",
                "我奶奶总说，汤放到第二天会更好喝，这么多年过去了，我发现她说得一点没错。",
                "如果面团太黏，不要急着加面粉，先盖上保鲜膜让它醒{num}分钟。",
                "在{town}开小面馆的{name}每天早上四点就起床和面，二十年来从未间断。",
                "剩下的米饭可以加两个鸡蛋和一些葱花，做成一盘简单又美味的蛋炒饭。",
                "这道菜的酱汁可以在冰箱里保存三天，非常适合工作日的晚餐。",
                "切菜之前一定要把刀磨快，因为钝刀反而更容易打滑伤手。",
            ],
            "travel": [
                "我们傍晚才到达{town}，正好赶上最后一班渡轮离开码头。",
                "老城区最好步行游览，大部分博物馆都在主广场附近，走路不到十分钟。",
                "两座城市之间每小时都有一班高铁，提前买票的话单程大约{big}元。",
                "我们住的小客栈只有{num}个房间，但早餐是在能看到山谷的露台上吃的。",
                "很多游客会错过北边的海岸，其实那里的海滩非常安静，海鲜也特别新鲜。",
                "夏天出门旅行记得带上水杯，爬山最好赶在中午炎热之前出发。",
                "最后一天我们租了自行车，沿着河边的绿道骑了将近{num}个小时。",
            ],
            "local": [
                "{town}市政府昨天宣布，市图书馆从下个月起将延长开放时间。",
                "主桥的维修工程预计将持续到月底，市民出行请提前规划路线。",
                "超过{big}名市民参加了今年的春季集市，所得善款将全部捐给当地医院。",
                "附近居民多年来一直反映火车站周边停车位严重不足的问题。",
                "周末有志愿者在河岸边清理垃圾，一共收集了将近{num}吨废弃物。",
                "这家开了几十年的老字号点心铺将于六月正式关门，不少老顾客专程前来告别。",
                "新建的儿童游乐场就在小学旁边，周六开放当天吸引了许多家长和孩子。",
            ],
        },
        "generic": [
            "在这篇文章里，我们整理了最近几个月读者来信中最常见的问题。",
            "欢迎大家在评论区分享自己的经验和看法。",
            "这虽然只是一个小小的改变，但坚持一年就会看到明显的不同。",
            "我们会在获得更多信息后继续跟进报道。",
        ],
        "titles": {
            "cooking": ["在家做出完美红烧肉的秘诀", "工作日也能轻松完成的快手晚餐"],
            "travel": ["{town}三日游：住哪里、吃什么", "骑车沿河慢游"],
            "local": ["{town}市图书馆将延长开放时间", "春季集市吸引大批市民"],
        },
    },
    "ja": {
        "topics": {
            "cooking": [
                "カレーをおいしく作るコツは、玉ねぎを弱火でじっくりあめ色になるまで炒めることです。",
                "祖母はいつも、煮物は一晩おいたほうが味がしみておいしくなると言っていました。",
                "生地がべたつく場合は、すぐに粉を足さずに{num}分ほど休ませてください。",
                "{town}で小さなパン屋を営む{name}は、毎朝四時に起きて生地の仕込みを始めるそうです。",
                "残ったご飯は、卵とねぎを加えて手早く炒めれば、簡単なチャーハンになります。",
                "このたれは冷蔵庫で三日ほど保存できるので、忙しい平日の夕食に便利です。",
                "包丁はよく研いでおいたほうが、熟したトマトを切るときにも滑らず安全です。",
            ],
            "travel": [
                "{town}に着いたのは夕方で、ちょうど最後のフェリーが港を出るところでした。",
                "旧市街は歩いて回るのがおすすめで、ほとんどの博物館は中央広場から十分ほどの距離にあります。",
                "二つの町の間には一時間に一本電車が走っていて、片道の運賃はおよそ{big}0円です。",
                "泊まった小さな旅館は{num}部屋しかありませんでしたが、朝食は谷を見下ろすテラスでいただきました。",
                "多くの観光客は北の海岸を見落としがちですが、浜辺は静かで海の幸もとても新鮮です。",
                "夏に旅行するなら水筒を持ち歩き、ハイキングは日差しが強くなる前の朝早くに出発しましょう。",
                "最終日には自転車を借りて、川沿いの道を{num}時間近く走りました。",
            ],
            "gardening": [
                "トマトは一日に少なくとも六時間の日光が必要なので、庭の一番明るい場所に植えましょう。",
                "チューリップの球根は、最初の霜が降りる{num}週間ほど前に植えるのが理想的です。",
                "土の表面をわらやウッドチップで覆うと、乾燥を防ぎ、雑草も生えにくくなります。",
                "コーヒーの出がらしは捨てずに、堆肥に混ぜるとよい肥料になります。",
                "バラの葉が黄色くなったら、水が足りないのではなく、むしろ与えすぎている可能性があります。",
                "果樹の剪定は、枝が裸になって形がよく見える冬の終わりに行うのが一般的です。",
                "雨水をタンクにためておけば、水道代の節約になり、夏場の水やりにも役立ちます。",
            ],
        },
        "generic": [
            "この記事では、ここ数か月で読者の皆さんから特に多く寄せられた質問にお答えします。",
            "皆さんの経験や感想も、ぜひコメント欄で教えてください。",
            "小さな変化ですが、一年続ければ大きな違いになります。",
            "詳しい情報が入り次第、続報をお届けします。",
        ],
        "titles": {
            "cooking": ["おいしいカレーを作るコツ", "忙しい平日に作れる簡単レシピ"],
            "travel": ["{town}で過ごす週末", "自転車で川沿いを旅する"],
            "gardening": ["小さな庭でトマトを育てる", "チューリップの球根を植える時期"],
        },
    },
}

_MONTHS: dict[str, list[str]] = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
    "de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
           "September", "Oktober", "November", "Dezember"],
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"],
    "es": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
           "septiembre", "octubre", "noviembre", "diciembre"],
    "it": ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto",
           "settembre", "ottobre", "novembre", "dicembre"],
    "nl": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
           "september", "oktober", "november", "december"],
    "pt": ["janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto",
           "setembro", "outubro", "novembro", "dezembro"],
}

# Date lines: {d} day, {m} month number, {month} month name, {y} year, {author}.
_DATE_LINES: dict[str, tuple[str, str]] = {
    "en": ("Published on {month} {d}, {y} by {author}", "Updated on {month} {d}, {y}"),
    "de": ("Veröffentlicht am {d}. {month} {y} von {author}", "Aktualisiert am {d}. {month} {y}"),
    "fr": ("Publié le {d} {month} {y} par {author}", "Mis à jour le {d} {month} {y}"),
    "es": ("Publicado el {d} de {month} de {y} por {author}", "Actualizado el {d} de {month} de {y}"),
    "it": ("Pubblicato il {d} {month} {y} da {author}", "Aggiornato il {d} {month} {y}"),
    "nl": ("Gepubliceerd op {d} {month} {y} door {author}", "Bijgewerkt op {d} {month} {y}"),
    "pt": ("Publicado em {d} de {month} de {y} por {author}", "Atualizado em {d} de {month} de {y}"),
    "zh": ("{author} 发布于 {y}年{m}月{d}日", "更新于 {y}年{m}月{d}日"),
    "ja": ("{y}年{m}月{d}日 公開（文：{author}）", "{y}年{m}月{d}日 更新"),
}

_UI: dict[str, dict] = {
    "en": {"home": "Home", "about": "About us", "contact": "Contact", "search": "Search",
           "related": "Related articles", "share": "Share this article", "comments": "{n} comments",
           "newsletter": "Sign up for our newsletter and get the best stories every week.",
           "rights": "All rights reserved.", "privacy": "Privacy policy", "terms": "Terms of use",
           "cookie": "This website uses cookies to improve your experience. By continuing to browse the site you agree to our use of cookies.",
           "accept": "Accept",
           "sections": {"cooking": "Food", "travel": "Travel", "science": "Science", "local": "Local news",
                        "history": "History", "gardening": "Garden"}},
    "de": {"home": "Startseite", "about": "Über uns", "contact": "Kontakt", "search": "Suche",
           "related": "Das könnte Sie auch interessieren", "share": "Artikel teilen", "comments": "{n} Kommentare",
           "newsletter": "Abonnieren Sie unseren Newsletter und erhalten Sie jede Woche die besten Geschichten.",
           "rights": "Alle Rechte vorbehalten.", "privacy": "Datenschutz", "terms": "Impressum",
           "cookie": "Diese Website verwendet Cookies, um Ihnen das beste Erlebnis zu bieten. Wenn Sie weitersurfen, stimmen Sie der Verwendung von Cookies zu.",
           "accept": "Akzeptieren",
           "sections": {"cooking": "Essen & Trinken", "travel": "Reisen", "science": "Wissenschaft",
                        "local": "Lokales", "history": "Geschichte", "gardening": "Garten"}},
    "fr": {"home": "Accueil", "about": "À propos", "contact": "Contact", "search": "Rechercher",
           "related": "À lire aussi", "share": "Partager cet article", "comments": "{n} commentaires",
           "newsletter": "Inscrivez-vous à notre lettre d'information pour recevoir nos meilleurs articles chaque semaine.",
           "rights": "Tous droits réservés.", "privacy": "Politique de confidentialité", "terms": "Mentions légales",
           "cookie": "Ce site utilise des cookies pour améliorer votre expérience. En poursuivant votre navigation, vous acceptez l'utilisation des cookies.",
           "accept": "Accepter",
           "sections": {"cooking": "Cuisine", "travel": "Voyages", "science": "Sciences",
                        "local": "Actualités locales", "history": "Histoire", "gardening": "Jardin"}},
    "es": {"home": "Inicio", "about": "Quiénes somos", "contact": "Contacto", "search": "Buscar",
           "related": "Artículos relacionados", "share": "Compartir este artículo", "comments": "{n} comentarios",
           "newsletter": "Suscríbete a nuestro boletín y recibe cada semana los mejores artículos.",
           "rights": "Todos los derechos reservados.", "privacy": "Política de privacidad", "terms": "Aviso legal",
           "cookie": "Este sitio web utiliza cookies para mejorar su experiencia. Si continúa navegando, acepta su uso.",
           "accept": "Aceptar",
           "sections": {"cooking": "Cocina", "travel": "Viajes", "science": "Ciencia", "local": "Local",
                        "history": "Historia", "gardening": "Jardín"}},
    "it": {"home": "Home", "about": "Chi siamo", "contact": "Contatti", "search": "Cerca",
           "related": "Articoli correlati", "share": "Condividi questo articolo", "comments": "{n} commenti",
           "newsletter": "Iscriviti alla nostra newsletter per ricevere ogni settimana i migliori articoli.",
           "rights": "Tutti i diritti riservati.", "privacy": "Privacy", "terms": "Note legali",
           "cookie": "Questo sito utilizza i cookie per migliorare la tua esperienza. Continuando la navigazione accetti l'uso dei cookie.",
           "accept": "Accetta",
           "sections": {"cooking": "Cucina", "travel": "Viaggi", "local": "Cronaca locale"}},
    "nl": {"home": "Home", "about": "Over ons", "contact": "Contact", "search": "Zoeken",
           "related": "Gerelateerde artikelen", "share": "Deel dit artikel", "comments": "{n} reacties",
           "newsletter": "Schrijf je in voor onze nieuwsbrief en ontvang elke week de beste verhalen.",
           "rights": "Alle rechten voorbehouden.", "privacy": "Privacybeleid", "terms": "Disclaimer",
           "cookie": "Deze website gebruikt cookies om uw ervaring te verbeteren. Door verder te surfen gaat u akkoord met het gebruik van cookies.",
           "accept": "Accepteren",
           "sections": {"cooking": "Koken", "gardening": "Tuin", "local": "Lokaal nieuws"}},
    "pt": {"home": "Início", "about": "Sobre nós", "contact": "Contactos", "search": "Pesquisar",
           "related": "Artigos relacionados", "share": "Partilhar este artigo", "comments": "{n} comentários",
           "newsletter": "Subscreva a nossa newsletter e receba todas as semanas os melhores artigos.",
           "rights": "Todos os direitos reservados.", "privacy": "Política de privacidade", "terms": "Termos de utilização",
           "cookie": "Este site utiliza cookies para melhorar a sua experiência. Ao continuar a navegar, concorda com a sua utilização.",
           "accept": "Aceitar",
           "sections": {"cooking": "Cozinha", "travel": "Viagens", "science": "Ciência"}},
    "zh": {"home": "首页", "about": "关于我们", "contact": "联系我们", "search": "搜索",
           "related": "相关文章", "share": "分享这篇文章", "comments": "{n} 条评论",
           "newsletter": "订阅我们的新闻邮件，每周获取精选文章。",
           "rights": "版权所有。", "privacy": "隐私政策", "terms": "使用条款",
           "cookie": "本网站使用Cookie来改善您的浏览体验。继续浏览即表示您同意我们使用Cookie。",
           "accept": "同意",
           "sections": {"cooking": "美食", "travel": "旅行", "local": "本地新闻"}},
    "ja": {"home": "ホーム", "about": "私たちについて", "contact": "お問い合わせ", "search": "検索",
           "related": "関連記事", "share": "この記事をシェアする", "comments": "コメント {n} 件",
           "newsletter": "ニュースレターに登録すると、毎週おすすめの記事をお届けします。",
           "rights": "無断転載を禁じます。", "privacy": "プライバシーポリシー", "terms": "利用規約",
           "cookie": "当サイトでは、利便性向上のためにCookieを使用しています。引き続きご利用いただくことで、Cookieの使用に同意したものとみなされます。",
           "accept": "同意する",
           "sections": {"cooking": "料理", "travel": "旅行", "gardening": "ガーデニング"}},
}

# (host, site name, theme, topics) -- themes: 0 news site, 1 blog/recipes, 2 travel magazine.
_HOSTS: dict[str, list[tuple[str, str, int, list[str]]]] = {
    "en": [("www.example-news.test", "Example News", 0, ["local", "science", "history"]),
           ("recipes.example.org", "Kitchen Notes", 1, ["cooking", "gardening"]),
           ("travel-notes.test", "Travel Notes", 2, ["travel", "history", "cooking"]),
           ("greenthumb.example.com", "The Green Thumb", 1, ["gardening", "science"])],
    "de": [("kochen.example.de", "Kochen & Genießen", 1, ["cooking", "gardening"]),
           ("www.lokalzeitung.example.de", "Lokalzeitung am Fluss", 0, ["local", "history", "science"]),
           ("reiseblog.example.de", "Unterwegs – Das Reiseblog", 2, ["travel", "cooking", "history"])],
    "fr": [("cuisine.example.fr", "Cuisine et Saveurs", 1, ["cooking", "gardening"]),
           ("actu-locale.example.fr", "L'Actu Locale", 0, ["local", "history", "science"]),
           ("carnet-de-voyage.example.fr", "Carnet de voyage", 2, ["travel", "cooking"])],
    "es": [("noticias.example.es", "Noticias del Valle", 0, ["local", "history", "science"]),
           ("recetas.example.es", "Recetas de Casa", 1, ["cooking", "gardening"]),
           ("viajes.example.es", "Cuaderno de Viajes", 2, ["travel", "history"])],
    "it": [("ricette.example.it", "La Cucina di Casa", 1, ["cooking", "travel"]),
           ("cronaca.example.it", "Cronaca Locale", 0, ["local", "travel"])],
    "nl": [("nieuws.example.nl", "Het Lokale Nieuws", 0, ["local", "gardening"]),
           ("koken.example.nl", "Lekker Koken", 1, ["cooking", "gardening"])],
    "pt": [("noticias.example.pt", "Notícias do Sul", 0, ["science", "travel"]),
           ("receitas.example.pt", "Receitas da Avó", 1, ["cooking", "travel"])],
    "zh": [("news.example.cn", "本地生活网", 0, ["local", "travel"]),
           ("food.example.cn", "美食笔记", 1, ["cooking", "travel"])],
    "ja": [("blog.example.jp", "暮らしのノート", 1, ["cooking", "gardening"]),
           ("tabi.example.jp", "旅の記録", 2, ["travel", "cooking"])],
}

# Share of the article pages per language (largest-remainder quotas, so every
# language shows up once there are a few dozen pages).
_LANG_WEIGHTS: list[tuple[str, float]] = [
    ("en", 0.34), ("de", 0.17), ("fr", 0.14), ("es", 0.14), ("it", 0.05),
    ("nl", 0.04), ("pt", 0.04), ("zh", 0.04), ("ja", 0.04),
]
_MAJOR = ("en", "de", "fr", "es")
_NO_SPACE = ("zh", "ja")

_SERVERS = ["nginx", "nginx/1.24.0", "Apache/2.4.57 (Debian)", "Apache", "cloudflare",
            "LiteSpeed", "Microsoft-IIS/10.0"]

_USER_AGENT = "CCBot/2.0 (https://commoncrawl.org/faq/)"
_ACCEPT_LANG = {"en": "en-US,en;q=0.5", "de": "de-DE,de;q=0.9,en;q=0.5", "fr": "fr-FR,fr;q=0.9,en;q=0.5",
                "es": "es-ES,es;q=0.9,en;q=0.5", "it": "it-IT,it;q=0.9,en;q=0.5", "nl": "nl-NL,nl;q=0.9,en;q=0.5",
                "pt": "pt-PT,pt;q=0.9,en;q=0.5", "zh": "zh-CN,zh;q=0.9,en;q=0.5", "ja": "ja-JP,ja;q=0.9,en;q=0.5"}

_LOREM = [
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.",
    "Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.",
    "Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur.",
    "Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum.",
    "Curabitur pretium tincidunt lacus, nulla gravida orci a odio.",
    "Nullam varius, turpis et commodo pharetra, est eros bibendum elit, nec luctus magna felis sollicitudin mauris.",
    "Integer in mauris eu nibh euismod gravida.",
    "Praesent dapibus, neque id cursus faucibus, tortor neque egestas augue, eu vulputate magna eros eu erat.",
]

_SPAM_KEYWORDS = ["cheap watches", "replica watches", "best price", "buy watches online", "luxury watches sale",
                  "discount watches", "free shipping", "watches for men", "watches for women", "top brands",
                  "cheap rolex", "swiss watches cheap", "watch deals", "best watches 2024"]
_SPAM_LINKS = ["Cheap flights to {c}", "Hotels in {c}", "Car insurance quotes", "Online casino bonus",
               "Best mortgage rates", "Free movie downloads", "Weight loss pills", "Payday loans {c}",
               "Dating in {c}", "Cheap watches", "Used cars {c}", "Crypto trading signals", "Make money online",
               "Free ringtones", "Cheap hotels {c}", "Sports betting tips"]
_SPAM_CITIES = ["Paris", "London", "Berlin", "Madrid", "Rome", "New York", "Tokyo", "Dubai"]
_BULLETS = ["Free shipping on all orders", "Best price guaranteed", "100% satisfaction", "Secure payment with all major cards",
            "New arrivals every week", "Limited stock available", "Order today and save up to 70%", "Top quality products",
            "Fast delivery worldwide", "24/7 customer support", "Easy returns within 30 days", "Exclusive deals for members",
            "No hidden fees", "Trusted by thousands of customers", "Gift wrapping available", "Click here for more offers"]

_WARC_BASE = datetime(2024, 3, 4, 0, 0, 0, tzinfo=UTC)
_WARC_SPAN_HOURS = 96  # the main files cover four days


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _attr(text: str) -> str:
    return html.escape(text, quote=True)


def _slugify(text: str) -> str:
    norm = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    out = []
    dash = False
    for ch in norm:
        if ch.isalnum():
            out.append(ch)
            dash = False
        elif not dash:
            out.append("-")
            dash = True
    return "".join(out).strip("-")[:60].strip("-")


def _section_href(ui: dict, topic: str) -> str:
    return f"/{_slugify(ui['sections'][topic]) or topic}/"


def _ballast(rng: random.Random, kb: int, links: list[tuple[str, str]]) -> tuple[str, str, str]:
    """Inline CSS, inline JS and a mega-menu worth about ``kb`` KB: the markup weight of a real
    Common Crawl page (median around 50-100 KB of HTML for a few KB of text), for benchmarks."""
    budget = kb * 1024
    css, js, menu = [], [], []
    size = 0
    i = 0
    while size < budget:
        part = i % 3
        if part == 0:
            rule = (f".c{rng.getrandbits(24):06x} .item-{i}{{margin:{rng.randint(0, 24)}px {rng.randint(0, 24)}px;"
                    f"color:#{rng.getrandbits(24):06x};font-size:{rng.randint(10, 22)}px;display:flex}}")
            css.append(rule)
            size += len(rule)
        elif part == 1:
            stmt = (f"window.__cfg{i}={{id:{rng.getrandbits(32)},track:function(e){{return e&&e.target?"
                    f"'{rng.getrandbits(40):x}':null}},slots:[{rng.randint(1, 9)},{rng.randint(1, 9)}]}};")
            js.append(stmt)
            size += len(stmt)
        else:
            href, label = links[i % len(links)]
            item = f'<li class="mm-{i}"><a href="{href}?ref=mm{i}" data-track="{rng.getrandbits(32):x}">{_esc(label)}</a></li>'
            menu.append(item)
            size += len(item)
        i += 1
    return (f"<style>{''.join(css)}</style>", f"<script>{''.join(js)}</script>",
            f'<div class="mega-menu" hidden><ul>{"".join(menu)}</ul></div>')


def _record_id(rng: random.Random) -> str:
    return f"<urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}>"


def _warc_date(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _http_date(dt: datetime) -> str:
    return format_datetime(dt, usegmt=True)


def _date_line(lang: str, d: date, author: str, updated: bool = False) -> str:
    months = _MONTHS.get(lang)
    template = _DATE_LINES[lang][1 if updated else 0]
    return template.format(d=d.day, m=d.month, y=d.year, author=author,
                           month=months[d.month - 1] if months else "")


def _quotas(total: int, weights: list[tuple[str, float]]) -> list[tuple[str, int]]:
    raw = [(k, w * total) for k, w in weights]
    counts = {k: int(v) for k, v in raw}
    rest = total - sum(counts.values())
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i][1] - int(raw[i][1])), i))
    for i in order[:rest]:
        counts[raw[i][0]] += 1
    return [(k, counts[k]) for k, _ in weights]


def _png(rng: random.Random, width: int, height: int) -> bytes:
    """A small valid PNG of random RGB noise."""
    raw = b"".join(b"\x00" + rng.randbytes(width * 3) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def _pdf(text: str) -> bytes:
    """A minimal one-page PDF showing a line of text."""
    stream = (f"BT /F1 14 Tf 72 720 Td ({text}) Tj ET").encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>"),
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# ---------------------------------------------------------------------------
# Page model
# ---------------------------------------------------------------------------

@dataclasses.dataclass
class _Article:
    lang: str
    host: str
    site: str
    theme: int
    topic: str
    title: str
    author: str
    published: date
    paragraphs: list[list[str]]
    spare: list[str]
    path: str
    charset: str  # header | header_only | meta | meta_equiv | none | legacy
    encoding: str = "utf-8"
    updated: date | None = None
    canonical: str | None = None

    @property
    def url(self) -> str:
        return "https://" + self.host + self.path


@dataclasses.dataclass
class _Fetch:
    url: str
    kind: str  # article | near_dup | exact_dup | spam | non_html | non_200
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    payload_type: str
    lang: str = ""
    charset: str = ""
    request: bool = False


class _Generator:
    """Builds the pages; all randomness comes from one seeded ``random.Random``."""

    def __init__(self, rng: random.Random, page_kb: int = 0) -> None:
        self.rng = rng
        self.page_kb = page_kb
        self.urls: set[str] = set()
        self.by_host: dict[str, list[_Article]] = {}
        self.servers: dict[str, str] = {}
        self.ips: dict[str, str] = {}

    # -- hosts ---------------------------------------------------------------
    def server(self, host: str) -> str:
        if host not in self.servers:
            self.servers[host] = self.rng.choice(_SERVERS)
        return self.servers[host]

    def ip(self, host: str) -> str:
        if host not in self.ips:
            net = self.rng.choice(["192.0.2", "198.51.100", "203.0.113"])
            self.ips[host] = f"{net}.{self.rng.randint(1, 254)}"
        return self.ips[host]

    def unique_path(self, host: str, make) -> str:
        """``make(suffix)`` builds a path; retry with -2, -3 ... until the URL is new."""
        n = 1
        while True:
            path = make("" if n == 1 else f"-{n}")
            url = "https://" + host + path
            if url not in self.urls:
                self.urls.add(url)
                return path
            n += 1

    def claim(self, url: str) -> str:
        n = 1
        base = url
        while url in self.urls:
            n += 1
            url = base + ("&" if "?" in base else "?") + f"v={n}"
        self.urls.add(url)
        return url

    # -- articles --------------------------------------------------------------
    def article(self, lang: str, host_info: tuple[str, str, int, list[str]] | None = None) -> _Article:
        rng = self.rng
        bank = _BANK[lang]
        slots = _SLOTS[lang]
        host, site, theme, topics = host_info or rng.choice(_HOSTS[lang])
        topic = rng.choice(topics)
        second = rng.choice([t for t in topics if t != topic] or topics)
        ctx = {"town": rng.choice(slots["town"]), "name": rng.choice(slots["name"]),
               "day": rng.choice(slots["day"]), "year": str(rng.randint(1862, 1958))}

        def fill(template: str) -> str:
            return template.format(num=rng.randint(2, 9), big=rng.randint(20, 400), **ctx)

        primary = list(bank["topics"][topic])
        secondary = list(bank["topics"][second])
        generic = list(bank["generic"])
        rng.shuffle(primary)
        rng.shuffle(secondary)
        major = lang in _MAJOR
        n_par = rng.randint(3, 4) if major else 3
        sizes = [rng.randint(3, 5) if major else rng.randint(3, 4) for _ in range(n_par)]
        total = sum(sizes)
        n_gen = rng.randint(1, 2)
        n_prim = min(len(primary) - 1, max(3, round(total * 0.6)))
        n_sec = max(1, min(len(secondary) - 1, total - n_prim - n_gen))
        gen_pick = rng.sample(generic, n_gen)
        seq = primary[:n_prim] + secondary[:n_sec]
        intro = [g for g in gen_pick if g == generic[0]]
        outro = [g for g in gen_pick if g != generic[0]]
        seq = intro + seq + outro
        filled = [fill(s) for s in seq]
        paragraphs: list[list[str]] = []
        pos = 0
        for size in sizes:
            if pos >= len(filled):
                break
            paragraphs.append(filled[pos:pos + size])
            pos += size
        if pos < len(filled):
            paragraphs[-1].extend(filled[pos:])
        if len(paragraphs) > 1 and len(paragraphs[-1]) < 2:
            paragraphs[-2].extend(paragraphs.pop())
        spare = [fill(s) for s in primary[n_prim:] + secondary[n_sec:]]

        title = rng.choice(bank["titles"][topic]).format(**ctx)
        published = date(2024, 1, 2) + timedelta(days=rng.randint(0, 58))
        section = _slugify(_UI[lang]["sections"][topic]) or topic
        slug = _slugify(title) if lang not in _NO_SPACE else ""
        num_id = rng.randint(10000, 99999)

        def make(suffix: str) -> str:
            if lang in _NO_SPACE:
                return f"/{section}/{published:%Y%m%d}/{num_id}{suffix}.html"
            if theme == 0:
                return f"/{section}/{published:%Y/%m}/{slug}{suffix}"
            if theme == 1:
                return f"/{slug}{suffix}/"
            return f"/{published:%Y/%m/%d}/{slug}{suffix}.html"

        path = self.unique_path(host, make)
        r = rng.random()
        if lang in ("de", "fr") and r < 0.22:
            charset = "legacy"
        else:
            r = rng.random()
            charset = ("header" if r < 0.52 else "header_only" if r < 0.74 else
                       "meta" if r < 0.85 else "meta_equiv" if r < 0.93 else "none")
        encoding = rng.choice(["iso-8859-1", "windows-1252"]) if charset == "legacy" else "utf-8"
        art = _Article(lang=lang, host=host, site=site, theme=theme, topic=topic, title=title,
                       author=rng.choice(slots["name"]), published=published, paragraphs=paragraphs,
                       spare=spare, path=path, charset=charset, encoding=encoding)
        self.by_host.setdefault(host, []).append(art)
        return art

    def near_duplicate(self, src: _Article) -> tuple[_Article, list[str]]:
        """Copy of ``src`` at another URL with a small edit; returns the copy and the edits."""
        rng = self.rng
        dup = dataclasses.replace(src, paragraphs=[list(p) for p in src.paragraphs], spare=list(src.spare))
        edits = [rng.choice(["date", "add", "remove"])]
        if edits[0] != "date" and rng.random() < 0.3:
            edits.append("date")
        if "date" in edits:
            dup.updated = src.published + timedelta(days=rng.randint(1, 9))
        if "add" in edits and dup.spare:
            para = rng.choice(dup.paragraphs)
            para.insert(rng.randint(1, len(para)), dup.spare.pop(0))
        elif "add" in edits:
            edits.remove("add")
        if "remove" in edits:
            candidates = [p for p in dup.paragraphs if len(p) > 3] or [p for p in dup.paragraphs if len(p) > 2]
            if candidates:
                para = rng.choice(candidates)
                del para[rng.randrange(len(para))]
            else:
                edits.remove("remove")
        if not edits:
            dup.updated = src.published + timedelta(days=rng.randint(1, 9))
            edits = ["date"]
        variant = rng.choice(["print", "amp", "syndicated", "republished"])
        others = [h for h in _HOSTS[src.lang] if h[0] != src.host]
        if variant == "syndicated" and others:
            dup.host, dup.site, dup.theme, _ = rng.choice(others)
            dup.canonical = src.url
            base = src.path.rstrip("/").rsplit("/", 1)[-1]
            dup.path = self.unique_path(dup.host, lambda s: f"/partner/{base}{s}")
        elif variant in ("print", "amp", "syndicated"):
            prefix = "/print" if variant != "amp" else "/amp"
            dup.canonical = src.url
            dup.path = self.unique_path(src.host, lambda s: prefix + src.path + (s and "?p" + s[1:]))
        else:
            stem = src.path.rstrip("/")
            tail = "/" if src.path.endswith("/") else ""
            if stem.endswith(".html"):
                stem, tail = stem[:-5], ".html"
            dup.path = self.unique_path(src.host, lambda s: stem + "-update" + s + tail)
        return dup, edits

    # -- rendering ------------------------------------------------------------
    def render(self, art: _Article) -> tuple[bytes, str]:
        """HTML body bytes and the HTTP Content-Type header value."""
        rng = self.rng
        ui = _UI[art.lang]
        joiner = "" if art.lang in _NO_SPACE else " "
        sections = [t for t in _HOSTS[art.lang] if t[0] == art.host]
        host_topics = sections[0][3] if sections else [art.topic]
        nav_items = [("/", ui["home"])] + [
            (_section_href(ui, t), ui["sections"][t]) for t in host_topics
        ] + [("/about/", ui["about"]), ("/contact/", ui["contact"])]
        seen = {art.title}
        others = []
        for a in self.by_host.get(art.host, []):
            if a.title not in seen:
                seen.add(a.title)
                others.append(a)
        related = rng.sample(others, min(len(others), rng.randint(3, 5)))
        byline = _date_line(art.lang, art.published, art.author)
        if art.updated:
            byline += " · " + _date_line(art.lang, art.updated, art.author, updated=True)
        section_name = ui["sections"][art.topic]
        section_href = _section_href(ui, art.topic)
        description = art.paragraphs[0][0] if art.paragraphs else art.title
        if len(description) > 155:
            description = description[:152].rsplit(" ", 1)[0] + "..."

        head = ["<!DOCTYPE html>", f'<html lang="{art.lang}">', "<head>"]
        if art.charset in ("header", "meta"):
            head.append('<meta charset="utf-8">')
        elif art.charset == "meta_equiv":
            head.append('<meta http-equiv="Content-Type" content="text/html; charset=utf-8">')
        elif art.charset == "legacy" and rng.random() < 0.5:
            head.append(f'<meta http-equiv="Content-Type" content="text/html; charset={art.encoding}">')
        ld = json.dumps({"@context": "https://schema.org", "@type": "Article", "headline": art.title,
                         "datePublished": art.published.isoformat(), "author": {"@type": "Person", "name": art.author}})
        head += [
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_esc(art.title)} | {_esc(art.site)}</title>",
            f'<meta name="description" content="{_attr(description)}">',
            f'<link rel="canonical" href="{_attr(art.canonical or art.url)}">',
            f'<link rel="stylesheet" href="/assets/css/main.css?v={rng.randint(100, 999)}">',
            f'<script type="application/ld+json">{ld}</script>',
            ("<script>window.dataLayer = window.dataLayer || [];"
            " function gtag(){dataLayer.push(arguments);} gtag('js', new Date());</script>"),
            "</head>",
        ]
        nav = ('<nav class="main-nav" aria-label="Main"><ul>'
               + "".join(f'<li><a href="{h}">{_esc(t)}</a></li>' for h, t in nav_items)
               + "</ul></nav>")
        search = ('<form class="search" action="/search" method="get"><input type="search" name="q" '
                  f'placeholder="{_attr(ui["search"])}"><button type="submit">{_esc(ui["search"])}</button></form>')
        paras = "\n".join(f"<p>{_esc(joiner.join(p))}</p>" for p in art.paragraphs)
        url = _attr(art.url)
        share = (f'<div class="share"><span>{_esc(ui["share"])}</span> '
                 f'<a href="https://facebook.example/sharer?u={url}">Facebook</a> '
                 f'<a href="https://x.example/intent/post?url={url}">X</a> '
                 f'<a href="mailto:?subject={_attr(art.title)}">E-Mail</a></div>')
        related_html = (f'<h2>{_esc(ui["related"])}</h2><ul class="related">'
                        + "".join(f'<li><a href="{_attr(a.path)}">{_esc(a.title)}</a></li>' for a in related)
                        + "</ul>")
        newsletter = (f'<div class="newsletter"><p>{_esc(ui["newsletter"])}</p>'
                      '<form action="/newsletter" method="post"><input type="email" name="email">'
                      '<button type="submit">OK</button></form></div>')
        footer_links = (f'<ul class="footer-links"><li><a href="/privacy/">{_esc(ui["privacy"])}</a></li>'
                        f'<li><a href="/terms/">{_esc(ui["terms"])}</a></li>'
                        f'<li><a href="/contact/">{_esc(ui["contact"])}</a></li></ul>')
        copyright_ = f'<p class="copyright">&copy; 2024 {_esc(art.site)}. {_esc(ui["rights"])}</p>'
        cookie = (f'<div class="cookie-banner" id="cookie-consent"><p>{_esc(ui["cookie"])}</p>'
                  f'<button type="button">{_esc(ui["accept"])}</button></div>')
        comments = _esc(ui["comments"].format(n=rng.randint(0, 48)))

        if art.theme == 0:
            body = [
                '<body class="news article-page">', cookie,
                f'<header class="site-header"><a class="logo" href="/">{_esc(art.site)}</a>{search}</header>',
                nav,
                (f'<div class="breadcrumbs"><a href="/">{_esc(ui["home"])}</a> &rsaquo; '
                 f'<a href="{section_href}">{_esc(section_name)}</a></div>'),
                '<main id="main">', '<article class="story">', f"<h1>{_esc(art.title)}</h1>",
                f'<p class="byline">{_esc(byline)}</p>', paras, share, "</article>", "</main>",
                f'<aside class="sidebar">{related_html}{newsletter}</aside>',
                f'<footer class="site-footer">{footer_links}{copyright_}</footer>',
            ]
        elif art.theme == 1:
            body = [
                '<body class="post-template-default single">', '<div class="wrapper">',
                f'<header id="masthead" class="site-header"><div class="site-title"><a href="/">{_esc(art.site)}</a></div>{search}</header>',
                nav.replace('class="main-nav"', 'class="menu primary-menu"'),
                '<div class="container">', '<main class="content" id="content">',
                f'<div class="post"><h1 class="entry-title">{_esc(art.title)}</h1>',
                f'<div class="entry-meta">{_esc(byline)} &middot; <a href="#comments">{comments}</a></div>',
                '<div class="entry-content">', paras, "</div>", share, "</div>", "</main>",
                f'<div class="sidebar widget-area" role="complementary">{related_html}<div class="widget">{newsletter}</div></div>',
                "</div>",
                f'<footer class="site-footer">{copyright_}{footer_links}{cookie}</footer>',
                "</div>",
            ]
        else:
            body = [
                '<body class="magazine">',
                f'<header class="top"><div class="brand"><a href="/">{_esc(art.site)}</a></div>{nav}</header>',
                "<main>", '<article class="post">',
                f'<header class="post-header"><h1>{_esc(art.title)}</h1><time datetime="{art.published.isoformat()}">{_esc(byline)}</time></header>',
                '<section class="post-body">', paras, "</section>",
                f'<footer class="post-footer">{share}</footer>', "</article>",
                f'<section class="comments" id="comments"><h3>{comments}</h3></section>', "</main>",
                f'<aside class="sidebar">{related_html}{newsletter}{search}</aside>',
                f'<footer class="site-footer">{copyright_}{footer_links}</footer>', cookie,
            ]
        body += ['<script src="/assets/js/app.js" defer></script>', "</body>", "</html>", ""]
        if self.page_kb:
            style, script, menu = _ballast(rng, self.page_kb, nav_items)
            head.insert(len(head) - 1, style + script)
            body.insert(1, menu)
        text = "\n".join(head + body)
        if art.charset == "legacy":
            data = text.encode(art.encoding, errors="xmlcharrefreplace")
            label = "ISO-8859-1" if art.encoding == "iso-8859-1" else "windows-1252"
            return data, f"text/html; charset={label}"
        data = text.encode("utf-8")
        if art.charset in ("header", "header_only"):
            return data, rng.choice(["text/html; charset=utf-8", "text/html; charset=UTF-8",
                                     "text/html;charset=utf-8"])
        return data, "text/html"

    def html_headers(self, host: str, ctype: str, body: bytes, modified: date | None) -> list[tuple[str, str]]:
        rng = self.rng
        headers = [("Server", self.server(host)), ("Content-Type", ctype), ("Content-Length", str(len(body)))]
        if modified is not None:
            lm = datetime(modified.year, modified.month, modified.day, rng.randint(6, 20), rng.randint(0, 59),
                          tzinfo=UTC)
            headers.append(("Last-Modified", _http_date(lm)))
        headers.append(("Cache-Control", rng.choice(["max-age=300", "public, max-age=600", "no-cache"])))
        if self.servers[host].startswith("Apache") and rng.random() < 0.5:
            headers.append(("X-Powered-By", f"PHP/8.2.{rng.randint(1, 15)}"))
        if rng.random() < 0.3:
            headers.append(("Set-Cookie", f"sid={rng.getrandbits(128):032x}; Path=/; HttpOnly; SameSite=Lax"))
        headers += [("Vary", "Accept-Encoding"), ("Connection", "close")]
        return headers

    def article_fetch(self, art: _Article, kind: str) -> _Fetch:
        body, ctype = self.render(art)
        headers = self.html_headers(art.host, ctype, body, art.updated or art.published)
        return _Fetch(url=art.url, kind=kind, status="200 OK", headers=headers, body=body,
                      payload_type="text/html", lang=art.lang, charset=art.charset,
                      request=self.rng.random() < 0.6)

    # -- spam / low quality ---------------------------------------------------
    _SPAM_KINDS: tuple[str, ...] = ("keyword_stuffing", "repeated_lines", "very_short", "link_list", "lorem_ipsum",
                   "bullet_lines", "js_required")

    def spam(self, kind: str) -> _Fetch:
        rng = self.rng
        lang = "en"
        style = "<style>body{font-family:Arial;}</style>"
        if kind == "keyword_stuffing":
            host = "cheap-watches-online.test"
            title = "Cheap Watches | Replica Watches | Luxury Watches Sale | Best Price"
            paras = []
            for _ in range(rng.randint(3, 5)):
                words = [rng.choice(_SPAM_KEYWORDS) for _ in range(rng.randint(25, 45))]
                paras.append(f"<p>{', '.join(words)}</p>")
            inner = ("<h1>Cheap Watches Cheap Watches Cheap Watches</h1>\n" + "\n".join(paras)
                     + '\n<p><a href="/buy">Buy cheap watches now</a></p>')
            meta = f'<meta name="keywords" content="{", ".join(_SPAM_KEYWORDS)}">'
            path_hint = "cheap-watches"
        elif kind == "repeated_lines":
            host = rng.choice(["best-deals-4u.test", "uhren-guenstig.example.net"])
            line = "Buy cheap watches now!!!" if host.startswith("best") else "Jetzt Uhren günstig kaufen!!!"
            lang = "en" if host.startswith("best") else "de"
            title = line
            inner = "\n".join(f"<p>{_esc(line)}</p>" for _ in range(rng.randint(30, 60)))
            meta = ""
            path_hint = "deals"
        elif kind == "very_short":
            host = rng.choice(["my-homepage.example.net", "under-construction.test"])
            text = rng.choice(["Coming soon.", "Under construction", "Welcome to my homepage!", "Hello world"])
            title = text
            inner = f"<p>{_esc(text)}</p>"
            meta = ""
            path_hint = "index"
        elif kind == "link_list":
            host = "seo-links-directory.test"
            title = "Web Directory - Best Links - Submit Your Site"
            items = []
            for _ in range(rng.randint(40, 70)):
                label = rng.choice(_SPAM_LINKS).format(c=rng.choice(_SPAM_CITIES))
                items.append(f'<li><a href="/go/{rng.randint(1000, 99999)}">{_esc(label)}</a></li>')
            inner = ("<h1>Web Directory</h1>\n<p>Categories:</p>\n<ul>\n" + "\n".join(items) + "\n</ul>\n"
                     + "<p>" + " | ".join(f'<a href="/page/{i}">{i}</a>' for i in range(1, 21)) + "</p>")
            meta = ""
            path_hint = "directory"
        elif kind == "lorem_ipsum":
            host = rng.choice(["lorem-shop.test", "new-site.example.com"])
            title = "Sample Page - Just another WordPress site"
            paras = []
            for _ in range(rng.randint(3, 5)):
                paras.append(f"<p>{' '.join(rng.sample(_LOREM, rng.randint(3, 5)))}</p>")
            inner = "<h1>Sample Page</h1>\n" + "\n".join(paras)
            meta = ""
            path_hint = "sample-page"
        elif kind == "bullet_lines":
            host = "mega-store-offers.test"
            title = "Special Offers"
            picks = rng.sample(_BULLETS, rng.randint(10, 16))
            if rng.random() < 0.5:
                inner = "<h1>Special Offers</h1>\n<ul>\n" + "\n".join(f"<li>{_esc(b)}</li>" for b in picks) + "\n</ul>"
            else:
                mark = rng.choice(["•", "-", "*", "✔"])
                inner = ("<h1>Special Offers</h1>\n<div class=\"features\">\n"
                         + "\n".join(f"{mark} {_esc(b)}<br>" for b in picks) + "\n</div>")
            meta = ""
            path_hint = "offers"
        else:  # js_required
            host = rng.choice(["app.example-spa.test", "dashboard.example.net"])
            title = "Loading..."
            inner = ('<div id="root"></div>\n<noscript>You need to enable JavaScript to run this app.</noscript>\n'
                     "<p>JavaScript is required to view this page. Please enable JavaScript in your browser "
                     "settings and reload the page.</p>\n"
                     '<script>!function(e){var t={};function n(r){if(t[r])return t[r].exports;'
                     "var o=t[r]={i:r,l:!1,exports:{}};return e[r].call(o.exports,o,o.exports,n),o.l=!0,o.exports}"
                     "n(0)}([function(e,t){console.log('app')}]);</script>")
            meta = ""
            path_hint = "app"
        meta_line = meta + "\n" if meta else ""
        page = (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
                f"<title>{_esc(title)}</title>\n{meta_line}{style}\n</head>\n<body>\n{inner}\n</body>\n</html>\n")
        body = page.encode("utf-8")
        path = self.unique_path(host, lambda s: f"/{path_hint}{s}.html" if path_hint != "index" or s else "/")
        headers = self.html_headers(host, "text/html; charset=utf-8", body, None)
        return _Fetch(url="https://" + host + path, kind="spam", status="200 OK", headers=headers, body=body,
                      payload_type="text/html", lang=lang, charset="header",
                      request=rng.random() < 0.6)

    # -- non-HTML and non-200 --------------------------------------------------
    def misc(self) -> list[_Fetch]:
        rng = self.rng
        out: list[_Fetch] = []
        hosts = ["www.example-news.test", "recipes.example.org", "kochen.example.de"]
        for i, host in enumerate(hosts):
            img = _png(rng, rng.randint(8, 24), rng.randint(8, 24))
            path = self.unique_path(host, lambda s, i=i: f"/images/photo-{rng.randint(100, 999) + i}{s}.png")
            headers = [("Server", self.server(host)), ("Content-Type", "image/png"), ("Content-Length", str(len(img))),
                       ("Accept-Ranges", "bytes"), ("Cache-Control", "public, max-age=86400"), ("Connection", "close")]
            out.append(_Fetch("https://" + host + path, "non_html", "200 OK", headers, img, "image/png",
                              request=rng.random() < 0.5))
        pdf = _pdf("Example News Annual Report 2023")
        host = "www.example-news.test"
        out.append(_Fetch(self.claim(f"https://{host}/files/annual-report-2023.pdf"), "non_html", "200 OK",
                          [("Server", self.server(host)), ("Content-Type", "application/pdf"),
                           ("Content-Length", str(len(pdf))), ("Accept-Ranges", "bytes"), ("Connection", "close")],
                          pdf, "application/pdf", request=True))
        robots = ("User-agent: *\nDisallow: /admin/\nDisallow: /search\n\nUser-agent: BadBot\nDisallow: /\n\n"
                  f"Sitemap: https://{host}/sitemap.xml\n").encode()
        out.append(_Fetch(self.claim(f"https://{host}/robots.txt"), "non_html", "200 OK",
                          [("Server", self.server(host)), ("Content-Type", "text/plain"),
                           ("Content-Length", str(len(robots))), ("Connection", "close")],
                          robots, "text/plain", request=True))
        art = self.article("en", _HOSTS["en"][0])
        self.by_host[art.host].remove(art)
        self.urls.discard(art.url)
        text = (art.title + "\n\n" + "\n\n".join(" ".join(p) for p in art.paragraphs) + "\n").encode("utf-8")
        out.append(_Fetch(self.claim(f"https://{host}/press/statement-2024-03.txt"), "non_html", "200 OK",
                          [("Server", self.server(host)), ("Content-Type", "text/plain; charset=utf-8"),
                           ("Content-Length", str(len(text))), ("Connection", "close")],
                          text, "text/plain", lang="en", request=False))
        # 404 with the site's usual boilerplate around a short message.
        ui = _UI["en"]
        page404 = ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                   "<title>Page not found | Example News</title>\n</head>\n<body>\n"
                   "<header class=\"site-header\"><a class=\"logo\" href=\"/\">Example News</a></header>\n"
                   "<nav class=\"main-nav\"><ul><li><a href=\"/\">Home</a></li><li><a href=\"/local-news/\">Local news</a>"
                   "</li><li><a href=\"/science/\">Science</a></li></ul></nav>\n<main id=\"main\">\n"
                   "<h1>Page not found</h1>\n<p>Sorry, the page you are looking for may have been moved or deleted.</p>\n"
                   "<p><a href=\"/\">Go back to the home page</a></p>\n</main>\n"
                   "<footer class=\"site-footer\"><p class=\"copyright\">&copy; 2024 Example News. "
                   + ui["rights"] + "</p></footer>\n</body>\n</html>\n").encode("utf-8")
        out.append(_Fetch(self.claim(f"https://{host}/2019/05/old-article-removed.html"), "non_200",
                          "404 Not Found",
                          [("Server", self.server(host)), ("Content-Type", "text/html; charset=utf-8"),
                           ("Content-Length", str(len(page404))), ("Cache-Control", "no-cache"), ("Connection", "close")],
                          page404, "text/html", lang="en", request=True))
        moved = (b"<html>\r\n<head><title>301 Moved Permanently</title></head>\r\n<body>\r\n"
                 b"<center><h1>301 Moved Permanently</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
        out.append(_Fetch(self.claim("http://example-news.test/"), "non_200", "301 Moved Permanently",
                          [("Server", "nginx"), ("Content-Type", "text/html"), ("Content-Length", str(len(moved))),
                           ("Location", "https://www.example-news.test/"), ("Connection", "close")],
                          moved, "text/html", request=True))
        return out


# ---------------------------------------------------------------------------
# WARC writing
# ---------------------------------------------------------------------------

class _WarcFile:
    """One WARC file being written to memory with warcio."""

    def __init__(self, rng: random.Random, gen: _Generator, filename: str, start: datetime,
                 seed: int, gzip_records: bool = True) -> None:
        self.rng = rng
        self.gen = gen
        self.buf = io.BytesIO()
        self.writer = WARCWriter(self.buf, gzip=gzip_records)
        self.filename = filename
        self.records = 0
        self.offsets: list[int] = []
        self.warcinfo_id = _record_id(rng)
        info = {
            "software": "corpora.sample_web (warcio)",
            "format": "WARC File Format 1.0",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.0/",
            "isPartOf": "DEMO-SAMPLE-2024-10",
            "description": f"Synthetic demo crawl generated from seed {seed}",
            "robots": "checked via crawler-commons",
            "operator": "Demo Corpus Builder",
            "hostname": "sample-generator",
            "http-header-user-agent": _USER_AGENT,
        }
        payload = "".join(f"{k}: {v}\r\n" for k, v in info.items()).encode("utf-8")
        record = self.writer.create_warc_record(
            "", "warcinfo", payload=io.BytesIO(payload), length=len(payload),
            warc_content_type="application/warc-fields",
            warc_headers_dict={"WARC-Type": "warcinfo", "WARC-Date": _warc_date(start),
                               "WARC-Filename": filename, "WARC-Record-ID": self.warcinfo_id})
        self._write(record)

    def _write(self, record) -> None:
        self.offsets.append(self.buf.tell())
        self.writer.write_record(record)
        self.records += 1

    def fetch(self, f: _Fetch, dt: datetime) -> int:
        """Write the optional request record and the response; returns the number of records."""
        host = f.url.split("/", 3)[2]
        path = "/" + f.url.split("/", 3)[3] if f.url.count("/") >= 3 else "/"
        ip = self.gen.ip(host)
        resp_id = _record_id(self.rng)
        written = 0
        if f.request:
            req_http = StatusAndHeaders(f"GET {path} HTTP/1.1", [
                ("Host", host), ("User-Agent", _USER_AGENT),
                ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
                ("Accept-Language", _ACCEPT_LANG.get(f.lang, "en-US,en;q=0.5")),
                ("Accept-Encoding", "br,gzip"), ("Connection", "close")], is_http_request=True)
            req = self.writer.create_warc_record(
                f.url, "request", payload=io.BytesIO(b""), length=0, http_headers=req_http,
                warc_headers_dict={"WARC-Type": "request", "WARC-Date": _warc_date(dt),
                                   "WARC-Record-ID": _record_id(self.rng), "WARC-Warcinfo-ID": self.warcinfo_id,
                                   "WARC-IP-Address": ip, "WARC-Concurrent-To": resp_id, "WARC-Target-URI": f.url})
            self._write(req)
            written += 1
        http = StatusAndHeaders(f.status, [("Date", _http_date(dt))] + f.headers, protocol="HTTP/1.1")
        resp = self.writer.create_warc_record(
            f.url, "response", payload=io.BytesIO(f.body), length=len(f.body), http_headers=http,
            warc_headers_dict={"WARC-Type": "response", "WARC-Date": _warc_date(dt), "WARC-Record-ID": resp_id,
                               "WARC-Warcinfo-ID": self.warcinfo_id, "WARC-IP-Address": ip,
                               "WARC-Target-URI": f.url, "WARC-Identified-Payload-Type": f.payload_type})
        self._write(resp)
        return written + 1

    def getvalue(self) -> bytes:
        return self.buf.getvalue()


def _write_file(path: str, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)


# ---------------------------------------------------------------------------
# Advice-forum pages (English, first-person posts) for the SOCIAL-CHEM demo.
# Written only when write_sample(..., forum_pages=N) asks for them, into their own
# file with their own random generator, so the rest of the sample is unchanged.
# ---------------------------------------------------------------------------

# (site, title, post sentences written for this title)
_FORUM_POSTS: list[tuple[str, str, list[str]]] = [
    ("aita", "AITA for telling my sister her boyfriend is rude to waiters?", [
        "Last Friday my sister brought her new boyfriend to our family dinner at a small Italian place near the station.",
        "He snapped at the waiter twice, complained loudly about the bread and left a tip of exactly one coin.",
        "The next morning I told my sister that I did not like the way he treated the staff, and she has not spoken to me since."]),
    ("aita", "AITA for not lending my car to my roommate after she crashed it last year?", [
        "My roommate borrowed my car last spring and backed it into a lamp post, and I paid most of the repair myself.",
        "This week she asked to borrow it again for a weekend trip with her friends to the coast.",
        "I said no and offered to drive her to the bus station instead, but she called me petty in front of our other flatmates."]),
    ("aita", "WIBTA if I skipped my cousin's wedding to attend a job interview?", [
        "I have been looking for a job for eight months and finally got an interview with a company I really admire.",
        "The only date they can offer is the same Saturday as my cousin's wedding, which is four hours away by train.",
        "My aunt says family comes first and that missing the ceremony would be an insult she would never forget."]),
    ("aita", "AITA for asking my husband to split the housework equally?", [
        "We both work full time, but I do the cooking, the laundry and almost all of the cleaning every single week.",
        "Yesterday I wrote a simple list of chores and asked my husband to pick half of them.",
        "He said he already takes out the bins and mows the lawn, and that I was making a big deal out of nothing."]),
    ("aita", "Am I wrong to want my parents to knock before entering my room?", [
        "I am seventeen and I share a small house with my parents and my two younger brothers.",
        "My mother walks into my room without knocking several times a day, even when I am changing or studying.",
        "When I asked her to knock first she said that it is her house and that I have nothing to hide."]),
    ("aita", "WIBTA if I told my best friend that her fiance is cheating on her?", [
        "Two weeks ago I saw my best friend's fiance kissing another woman in a bar on the other side of town.",
        "He saw me too and later sent me a message begging me to stay quiet until after the wedding.",
        "The wedding is in three months and I cannot stop thinking about whether she deserves to know."]),
    ("aita", "AITA for eating the leftovers my roommate left in the fridge?", [
        "There was a box of noodles in the fridge for four days without a name on it, so I ate it for lunch.",
        "My roommate came home furious because she had been saving it for her dinner after a long shift.",
        "I offered to buy her a new portion but she says I should always ask before touching anything in the kitchen."]),
    ("aita", "AITA for refusing to babysit my nephew every weekend?", [
        "My brother and his wife have asked me to look after their son every Saturday since the start of the year.",
        "I love my nephew, but I also have a part time job and I never get a free weekend for myself anymore.",
        "When I told them I could only help once a month, my brother said I was abandoning the family."]),
    ("aita", "Is it wrong to keep money I found on the street?", [
        "On my way home from school I found a folded envelope with about two hundred dollars inside it.",
        "There was no name or address on the envelope and nobody was around on the quiet side street.",
        "My friend says I should hand it in to the police station, but I honestly need the money for rent."]),
    ("aita", "WIBTA if I reported my coworker for sleeping at his desk?", [
        "One of my coworkers falls asleep at his desk almost every afternoon, and the rest of the team covers his calls.",
        "Our manager has noticed that our numbers are down and has started to blame the whole team for it.",
        "I do not want to get him fired, but I am tired of doing two jobs for the price of one."]),
    ("aita", "AITA for leaving my friend's birthday party early?", [
        "My friend invited me to her birthday party on a Sunday evening, and I told her in advance that I could only stay for an hour.",
        "After an hour and a half I said goodbye and went home because I had an early exam on Monday morning.",
        "She told me the next day that leaving before the cake was cut was the rudest thing anyone did that night."]),
    ("aita", "Am I wrong for expecting my brother to pay back the money he borrowed?", [
        "Last year I lent my older brother a large amount of money so that he could fix his van and keep working.",
        "He promised to pay me back within six months, but he has since bought a new phone and booked a holiday.",
        "When I reminded him about the loan our parents told me that family should not keep count of such things."]),
    ("aita", "AITA for not inviting my stepmother to my graduation?", [
        "My father married my stepmother when I was fourteen, and we have never had a close relationship.",
        "The university only gave me three tickets for the ceremony, so I invited my father, my mother and my grandmother.",
        "My stepmother is hurt and my father says I have humiliated her in front of the whole family."]),
    ("aita", "WIBTA if I asked my neighbor to turn down his music at night?", [
        "My neighbor plays loud music until two or three in the morning on most weeknights.",
        "I work early shifts at the hospital and I have barely slept properly for the last two weeks.",
        "He is a friendly older man who lives alone, and I am worried that a complaint would upset him."]),
    ("confessions", "Confession: I read my partner's messages while she was asleep.", [
        "I have never done anything like this before, and I have been feeling terrible about it for days.",
        "She had been quiet and distant for weeks, and one night I picked up her phone while she was sleeping.",
        "I found nothing at all, just messages about a surprise party she was planning for my birthday."]),
    ("confessions", "I feel guilty about lying to my boss about being sick.", [
        "Last Monday I called in sick to work even though I felt perfectly fine that morning.",
        "I spent the day helping my best friend move into her new apartment across the city.",
        "My boss was very kind on the phone and told me to rest, which only made me feel worse about it."]),
    ("aita", "AITA for giving my old bike to a stranger instead of my cousin?", [
        "I bought a new bicycle this summer and wanted to give my old one to someone who would really use it.",
        "A young man at the bus stop told me he walks an hour to work every day, so I gave it to him.",
        "My cousin had mentioned once that she might want it, and now she and my aunt are both angry with me."]),
    ("aita", "Was I wrong to tell the teacher that my classmate copied my homework?", [
        "A classmate asked to look at my maths homework before class and then copied every single answer.",
        "When the teacher asked why our answers were identical, I explained what had happened.",
        "My classmate now has detention and half of my class thinks I am a snitch who betrayed him."]),
    ("aita", "AITA for laughing when my friend fell off his chair?", [
        "During a dinner with friends my friend leaned back on his chair and fell over with his plate in his hands.",
        "He was not hurt at all, but I laughed so hard that I could not stop for a whole minute.",
        "He left early and later told me that my laughing in front of his new girlfriend was very hurtful."]),
    ("aita", "WIBTA if I didn't go to my dad's second wedding?", [
        "My father left my mother five years ago for the woman he is now going to marry.",
        "My mother says I should go for my own sake, but I do not think I can smile through the ceremony.",
        "The wedding is next month and my father keeps asking whether he should save me a seat at the front."]),
]
_FORUM_SITES = {"aita": ("advice-corner.example", "Advice Corner", "/r/AmItheAsshole/comments/"),
                "confessions": ("confession-booth.example", "The Confession Booth", "/confessions/")}
_FORUM_USERS = ["throwaway_8812", "quiet_reader", "maple_and_rain", "aita_throwaway22", "not_my_real_name",
                "tired_nurse", "coffee_first", "lurker_no_more"]
_FORUM_COMMENTS = [
    "Honestly I think you handled this as well as anyone could, and the people around you are overreacting.",
    "It sounds like there is a lot of history here that the others in your family are choosing to ignore.",
    "I understand why you did it, but I would have talked to them privately before making a decision.",
    "Everyone makes mistakes, and what matters now is how you talk about it with the people involved.",
    "You were put in a difficult position and nobody gave you a fair choice in the first place.",
    "I had almost the same thing happen to me last year, and an honest conversation fixed most of it.",
    "Your feelings are valid, but try to see it from their side for a moment before you decide anything.",
    "I would apologise for the way it came across, even if you do not regret the decision itself.",
]


def _forum_fetches(rng: random.Random, gen: "_Generator", n: int) -> list[_Fetch]:
    """``n`` advice-forum and confession pages (cycling through the posts above)."""
    fetches = []
    for i in range(n):
        site_key, title, sentences = _FORUM_POSTS[i % len(_FORUM_POSTS)]
        host, site, prefix = _FORUM_SITES[site_key]
        round_ = i // len(_FORUM_POSTS)
        post_id = f"{rng.getrandbits(30):x}"
        path = f"{prefix}{post_id}/{_slugify(title)[:60]}/" + (f"?page={round_ + 1}" if round_ else "")
        comments = rng.sample(_FORUM_COMMENTS, 2)
        user = rng.choice(_FORUM_USERS)
        body_html = "\n".join(f"<p>{_esc(s)}</p>" for s in sentences)
        comments_html = "\n".join(f'<div class="comment"><p>{_esc(c)}</p></div>' for c in comments)
        page = "\n".join([
            "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
            f"<title>{_esc(title)} : {_esc(site)}</title>", "</head>", "<body>",
            f'<header class="site-header"><a href="/">{_esc(site)}</a> <a href="/new/">New posts</a></header>',
            '<main id="main"><article class="post">', f"<h1>{_esc(title)}</h1>",
            f'<p class="byline">Posted by {_esc(user)}</p>', '<div class="post-body">', body_html, "</div>",
            "</article>", '<section class="comments"><h2>Top comments</h2>', comments_html, "</section></main>",
            f'<footer class="site-footer"><p>&copy; 2024 {_esc(site)}</p></footer>', "</body>", "</html>", "",
        ])
        body = page.encode("utf-8")
        headers = gen.html_headers(host, "text/html; charset=utf-8", body, date(2024, 2, 1) + timedelta(days=i % 28))
        fetches.append(_Fetch(url=gen.claim(f"https://{host}{path}"), kind="forum", status="200 OK", headers=headers,
                              body=body, payload_type="text/html", lang="en", charset="header",
                              request=rng.random() < 0.5))
    return fetches


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------

def write_sample(out_dir: str, seed: int = 0, pages: int = 300, files: int = 4, page_kb: int = 0,
                 forum_pages: int = 0) -> dict[str, int]:
    """Write the demo WARC sample into out_dir and return counts of what was written, by kind.

    ``pages`` is the number of HTML ``200`` responses in the ``sample-NNNNN.warc.gz``
    files (articles, their near/exact duplicates and spam); ``files`` is how many such
    files to spread them over.  ``sample-broken.warc.gz`` and ``sample-truncated.warc.gz``
    are written in addition.  The same arguments always give byte-identical files.

    ``forum_pages`` > 0 adds ``sample-forum.warc.gz``: English advice-forum and confession pages
    (AITA / WIBTA / "Am I wrong to" titles over first-person posts) for the SOCIAL-CHEM demo.
    They use their own random generator, so the other files do not change.
    """
    if files < 1:
        raise ValueError("files must be >= 1")
    if pages < 0:
        raise ValueError("pages must be >= 0")
    if forum_pages < 0:
        raise ValueError("forum_pages must be >= 0")
    rng = random.Random(seed)
    gen = _Generator(rng, page_kb)
    os.makedirs(out_dir, exist_ok=True)

    n_spam = round(pages * 0.08)
    n_near = round(pages * 0.10)
    n_exact = round(pages * 0.02)
    while pages and pages - n_spam - n_near - n_exact < 1:
        if n_near:
            n_near -= 1
        elif n_exact:
            n_exact -= 1
        else:
            n_spam -= 1
    n_base = pages - n_spam - n_near - n_exact

    # Articles (each language gets its quota; hosts and topics drawn at random).
    langs: list[str] = []
    for lang, count in _quotas(n_base, _LANG_WEIGHTS):
        langs += [lang] * count
    rng.shuffle(langs)
    articles = [gen.article(lang) for lang in langs]

    # Near duplicates: small edits, other URL.  Sources are distinct where possible.
    near: list[_Article] = []
    if articles:
        sources = rng.sample(articles, min(n_near, len(articles)))
        sources += [rng.choice(articles) for _ in range(n_near - len(sources))]
        for src in sources:
            dup, _ = gen.near_duplicate(src)
            near.append(dup)

    fetches: list[_Fetch] = [gen.article_fetch(a, "article") for a in articles]
    fetches += [gen.article_fetch(a, "near_dup") for a in near]

    # Exact duplicates: identical HTTP body (and headers) at a different URL.
    originals = [f for f in fetches if f.kind == "article"]
    for src in rng.sample(originals, min(n_exact, len(originals))) if originals else []:
        variant = rng.choice(["utm", "ref", "http", "index"])
        if variant == "utm":
            url = src.url + ("&" if "?" in src.url else "?") + "utm_source=newsletter&utm_medium=email"
        elif variant == "ref":
            url = src.url + ("&" if "?" in src.url else "?") + "ref=homepage"
        elif variant == "http":
            url = "http://" + src.url[len("https://"):]
        else:
            url = src.url + ("index.html" if src.url.endswith("/") else "?output=amp")
        fetches.append(_Fetch(url=gen.claim(url), kind="exact_dup", status=src.status, headers=list(src.headers),
                              body=src.body, payload_type=src.payload_type, lang=src.lang, charset=src.charset,
                              request=rng.random() < 0.6))

    kinds = _Generator._SPAM_KINDS
    fetches += [gen.spam(kinds[i % len(kinds)]) for i in range(n_spam)]
    misc = gen.misc()
    fetches += misc
    rng.shuffle(fetches)

    counts: dict[str, int] = {
        "files": 0, "sample_files": files, "records": 0, "warcinfo": 0, "requests": 0, "responses": 0,
        "html_pages": 0, "articles": 0, "near_duplicates": 0, "exact_duplicates": 0, "spam": 0,
        "non_html": 0, "non_200": 0,
        "charset_header": 0, "charset_meta_only": 0, "charset_none": 0, "charset_legacy": 0,
    }
    for lang, _ in _LANG_WEIGHTS:
        counts["lang_" + lang] = 0

    # Main files: contiguous chunks, each covering its own slice of the four days.
    n = len(fetches)
    span = _WARC_SPAN_HOURS * 3600 // files
    for i in range(files):
        chunk = fetches[i * n // files:(i + 1) * n // files]
        name = f"sample-{i:05d}.warc.gz"
        start = _WARC_BASE + timedelta(seconds=i * span)
        wf = _WarcFile(rng, gen, name, start, seed)
        step = max(2, (span * 9 // 10) // max(1, len(chunk)))
        dt = start
        for f in chunk:
            dt += timedelta(seconds=rng.randint(1, 2 * step - 1))
            wrote = wf.fetch(f, dt)
            counts["requests"] += wrote - 1
            counts["responses"] += 1
            if f.kind in ("article", "near_dup", "exact_dup", "spam"):
                counts["html_pages"] += 1
                key = {"article": "articles", "near_dup": "near_duplicates",
                       "exact_dup": "exact_duplicates", "spam": "spam"}[f.kind]
                counts[key] += 1
                cs = {"header": "charset_header", "header_only": "charset_header", "meta": "charset_meta_only",
                      "meta_equiv": "charset_meta_only", "none": "charset_none", "legacy": "charset_legacy"}
                counts[cs[f.charset]] += 1
                if f.kind != "spam":
                    counts["lang_" + f.lang] += 1
            elif f.kind == "non_html":
                counts["non_html"] += 1
            else:
                counts["non_200"] += 1
        counts["records"] += wf.records
        counts["warcinfo"] += 1
        _write_file(os.path.join(out_dir, name), wf.getvalue())
        counts["files"] += 1

    # Broken file: one gzip member; one record's WARC Content-Length is too large.
    bday = _WARC_BASE + timedelta(hours=_WARC_SPAN_HOURS + 2)
    broken = _WarcFile(rng, gen, "sample-broken.warc.gz", bday, seed, gzip_records=False)
    extra = [gen.article(rng.choice(["en", "de", "fr"])) for _ in range(7)]
    bad_index = 3
    bad_offset = -1
    dt = bday
    for j, art in enumerate(extra):
        dt += timedelta(seconds=rng.randint(5, 90))
        f = gen.article_fetch(art, "article")
        f.request = j in (0, 5)
        if j == bad_index:
            f.request = False
            bad_offset = broken.buf.tell()
        broken.fetch(f, dt)
    raw = bytearray(broken.getvalue())
    key = b"Content-Length: "
    pos = raw.index(key, bad_offset) + len(key)
    end = raw.index(b"\r\n", pos)
    real = int(raw[pos:end])
    raw[pos:end] = str(real + rng.randint(24, 60)).encode("ascii")
    _write_file(os.path.join(out_dir, "sample-broken.warc.gz"), gzip.compress(bytes(raw), compresslevel=9, mtime=0))
    counts["files"] += 1
    counts["broken_files"] = 2
    counts["broken_records"] = 1
    counts["broken_file_records"] = broken.records

    # Truncated file: valid per-record gzip WARC of ten pages, cut at 70%.
    tday = bday + timedelta(hours=3)
    trunc = _WarcFile(rng, gen, "sample-truncated.warc.gz", tday, seed)
    dt = tday
    for _ in range(10):
        dt += timedelta(seconds=rng.randint(5, 90))
        trunc.fetch(gen.article_fetch(gen.article(rng.choice(["en", "de", "es"])), "article"), dt)
    data = trunc.getvalue()
    _write_file(os.path.join(out_dir, "sample-truncated.warc.gz"), data[:int(len(data) * 0.7)])
    counts["files"] += 1
    counts["truncated_file_records"] = trunc.records
    counts["truncated_file_pages"] = 10
    if forum_pages > 0:
        frng = random.Random(f"forum-{seed}")
        fgen = _Generator(frng)
        fday = tday + timedelta(hours=3)
        fwarc = _WarcFile(frng, fgen, "sample-forum.warc.gz", fday, seed)
        dt = fday
        for f in _forum_fetches(frng, fgen, forum_pages):
            dt += timedelta(seconds=frng.randint(5, 90))
            fwarc.fetch(f, dt)
        _write_file(os.path.join(out_dir, "sample-forum.warc.gz"), fwarc.getvalue())
        counts["files"] += 1
        counts["forum_pages"] = forum_pages
    return counts


def _main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the demo WARC sample.")
    parser.add_argument("out_dir")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--forum-pages", type=int, default=0)
    args = parser.parse_args(argv)
    counts = write_sample(args.out_dir, seed=args.seed, pages=args.pages, files=args.files,
                          forum_pages=args.forum_pages)
    print(json.dumps(counts, indent=2))


if __name__ == "__main__":
    _main()
