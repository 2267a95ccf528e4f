"""Word lists of the synthetic CrossTask worlds: task cards, narration filler and components.

The 18 primary tasks follow the titles, numbers of steps and per-task statistics of the real
CrossTask primary tasks (thesis Table 3.2; 133 steps, 3 to 11 per task); their step lists are
written in the style of the release (``verb noun``, lower case, no commas) but are not copies of
it. The 65 related tasks are cooking, car and DIY tasks chosen, like the real ones, to be close
to one primary task each, so that they share many components (``add``, ``egg``, ``pour``,
``jack``, …) with the primary tasks.

Components are the content words of the step texts (function words such as ``into`` are dropped)
with plurals mapped to singulars (:func:`components`): ``"put bananas in blender"`` has the
components ``("put", "banana", "blender")``. They are the latent "words" whose appearance
prototypes make up a step's appearance in :mod:`instructvid.synth.crosstask.generate`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "FILLER_SENTENCES",
    "INTRO_SENTENCES",
    "MENTION_TEMPLATES",
    "OUTRO_SENTENCES",
    "PRIMARY_TASKS",
    "RELATED_TASKS",
    "SPURIOUS_TEMPLATES",
    "STOPWORDS",
    "TaskSpec",
    "components",
    "tokens",
]


@dataclass(frozen=True)
class TaskSpec:
    """A task of the synthetic vocabulary.

    Attributes:
        task_id: numeric string, as in the release (``"87706"``).
        title: ``"Make Pancakes"``.
        steps: the ordered step texts (no commas).
        n_videos: number of videos of the task in the ``full`` world (the release's count for
            primary tasks, 30 for related tasks).
        missing: mean fraction of the task's steps missing from a video (Table 3.2).
        background: mean fraction of a video's seconds that are background (Table 3.2).
        order: mean order consistency (longest in-order subsequence / steps present, Table 3.2).
        related_to: for a related task, the title of the primary task it was chosen for.
    """

    task_id: str
    title: str
    steps: tuple[str, ...]
    n_videos: int = 30
    missing: float = 0.31
    background: float = 0.72
    order: float = 0.86
    related_to: str = ""

    @property
    def url(self) -> str:
        """A wikiHow-style URL built from the title."""
        return "http://www.wikihow.com/" + "-".join(self.title.split())


def _primary(
    task_id: str, title: str, steps: str, stats: tuple[int, float, float, float]
) -> TaskSpec:
    """``stats``: (videos, missing, background, order consistency) of Table 3.2."""
    return TaskSpec(task_id, title, tuple(steps.split(",")), *stats)


#: The 18 primary tasks, ordered so that the first 3 (``tiny``) share many components and the
#: first 6 (``small``) add two car tasks. Statistics: number of videos, missing steps,
#: background and order consistency of the real task (thesis Table 3.2).
PRIMARY_TASKS: tuple[TaskSpec, ...] = (
    _primary(
        "87706",
        "Make Pancakes",
        "add flour,add sugar,add egg,add milk,whisk mixture,pour mixture into pan,flip pancake,"
        "put pancakes on plate",
        (182, 0.19, 0.70, 0.89),
    ),
    _primary(
        "23521",
        "Make Jello Shots",
        "pour water,pour juice,pour jello powder,pour alcohol,stir mixture,pour mixture into cup",
        (182, 0.21, 0.72, 0.87),
    ),
    _primary(
        "113766",
        "Make Lemonade",
        "cut lemon,squeeze lemon,pour lemon juice,add sugar,pour water,add ice,stir mixture,"
        "pour lemonade into glass",
        (131, 0.28, 0.69, 0.80),
    ),
    _primary(
        "71781",
        "Make French Toast",
        "crack egg,add milk,add cinnamon,whisk mixture,dip bread in mixture,melt butter,"
        "put bread in pan,flip bread,remove bread from pan,pour syrup on toast",
        (252, 0.23, 0.68, 0.80),
    ),
    _primary(
        "16815",
        "Jack Up Car",
        "put jack under car,raise jack,lower jack",
        (89, 0.39, 0.81, 1.00),
    ),
    _primary(
        "109972",
        "Change a Tire",
        "put brake on,get tools out,loosen lug nuts,put jack under car,raise jack,unscrew wheel,"
        "remove wheel,put on spare wheel,screw wheel,lower jack,tighten lug nuts",
        (99, 0.27, 0.62, 0.97),
    ),
    _primary(
        "95603",
        "Make Kimchi Fried Rice",
        "cut kimchi,add oil to pan,add kimchi,add rice,pour sesame oil,fry egg",
        (120, 0.21, 0.70, 0.69),
    ),
    _primary(
        "105222",
        "Pickle Cucumbers",
        "wash cucumbers,cut cucumbers,put cucumbers in jar,add dill,add garlic,boil water,"
        "add vinegar,add salt,pour mixture into jar,close lid,put jar in fridge",
        (106, 0.48, 0.75, 0.85),
    ),
    _primary(
        "105253",
        "Make Banana Ice Cream",
        "peel banana,cut banana,put bananas in freezer,put bananas in blender,blend mixture",
        (170, 0.38, 0.80, 0.98),
    ),
    _primary(
        "53193",
        "Grill Steak",
        "season steak,oil grill,light grill,put steak on grill,close lid,flip steak,open lid,"
        "check temperature,take steak from grill,rest steak,cut steak",
        (228, 0.46, 0.75, 0.95),
    ),
    _primary(
        "40567",
        "Add Oil to Your Car",
        "open hood,remove dipstick,wipe dipstick,insert dipstick,check oil level,remove oil cap,"
        "pour oil,close hood",
        (137, 0.33, 0.85, 0.92),
    ),
    _primary(
        "44047",
        "Make a Latte",
        "add coffee,press coffee,turn on machine,steam milk,pour espresso,pour milk",
        (157, 0.43, 0.71, 0.89),
    ),
    _primary(
        "44789",
        "Build Simple Floating Shelves",
        "cut shelf,assemble shelf,sand shelf,paint shelf,attach shelf",
        (153, 0.34, 0.58, 0.96),
    ),
    _primary(
        "59684",
        "Make Taco Salad",
        "cook meat,add seasoning,cut lettuce,cut tomato,put lettuce in bowl,add meat,add cheese,"
        "add tortilla chips",
        (170, 0.41, 0.79, 0.66),
    ),
    _primary(
        "76400",
        "Make Irish Coffee",
        "add sugar,pour coffee,pour whiskey,stir mixture,pour cream",
        (185, 0.13, 0.74, 0.77),
    ),
    _primary(
        "77721",
        "Make Strawberry Cake",
        "add flour,add sugar,add egg,whisk mixture,pour mixture into pan,put pan into oven,"
        "cut strawberries,spread cream,add strawberries to cake",
        (86, 0.25, 0.63, 0.82),
    ),
    _primary(
        "91515",
        "Make Meringue",
        "separate egg,whisk egg,add sugar,whisk mixture,spoon mixture onto tray,put tray into oven",
        (154, 0.23, 0.67, 0.98),
    ),
    _primary(
        "94276",
        "Make Fish Curry",
        "add oil to pan,add onion,add spices,add tomato,add water,add fish,add coconut milk",
        (149, 0.25, 0.69, 0.74),
    ),
)

# (title, related primary title, steps). Ids are assigned deterministically below.
_RELATED: tuple[tuple[str, str, str], ...] = (
    # Make Pancakes
    (
        "Make Sourdough Pancakes",
        "Make Pancakes",
        "feed starter,add starter,add flour,add egg,add milk,whisk mixture,pour mixture into pan,"
        "flip pancake,serve pancakes",
    ),
    (
        "Make Crepes",
        "Make Pancakes",
        "add flour,add egg,add milk,add vanilla,whisk batter,melt butter in pan,pour batter into pan,"
        "flip crepe,roll crepe",
    ),
    (
        "Make Waffles",
        "Make Pancakes",
        "add flour,add sugar,add egg,add milk,whisk batter,grease waffle iron,pour batter into iron,"
        "close iron,remove waffle",
    ),
    (
        "Make Banana Pancakes",
        "Make Pancakes",
        "mash banana,add egg,add flour,add baking powder,whisk mixture,pour mixture into pan,"
        "flip pancake,top with blueberries",
    ),
    # Make Jello Shots
    (
        "Make Jello",
        "Make Jello Shots",
        "boil water,pour jello powder,stir mixture,add cold water,pour mixture into mold,"
        "put mold in fridge,unmold jello",
    ),
    (
        "Make Vodka Jelly",
        "Make Jello Shots",
        "pour jelly crystals,pour water,stir mixture,pour vodka,pour mixture into cups,chill cups,"
        "garnish with whipped cream",
    ),
    (
        "Make Gummy Bears",
        "Make Jello Shots",
        "pour juice into pot,add gelatin,add sugar,stir mixture,pour mixture into mold,"
        "put mold in fridge,remove gummy bears,dust with cornstarch",
    ),
    # Make Lemonade
    (
        "Make Orange Juice",
        "Make Lemonade",
        "wash oranges,roll orange,cut orange,squeeze orange,strain juice,pour juice into glass,"
        "add ice",
    ),
    (
        "Make Limeade",
        "Make Lemonade",
        "zest lime,cut lime,squeeze lime,add sugar,pour water,stir mixture,add ice,"
        "pour limeade into glass,garnish with mint",
    ),
    (
        "Make Iced Tea",
        "Make Lemonade",
        "boil water,add tea bags,steep tea,remove tea bags,add sugar,refrigerate tea,add ice,"
        "add lemon slices,pour tea into glass",
    ),
    (
        "Make Strawberry Lemonade",
        "Make Lemonade",
        "cut strawberries,blend strawberries,squeeze lemon,add sugar,pour water,stir mixture,"
        "pour lemonade into glass",
    ),
    # Make French Toast
    (
        "Make Scrambled Eggs",
        "Make French Toast",
        "crack egg,add milk,whisk egg,season with pepper,melt butter,pour egg into pan,stir egg,"
        "add salt,chop chives,put egg on plate",
    ),
    (
        "Make an Omelette",
        "Make French Toast",
        "crack egg,whisk egg,add salt,chop peppers,melt butter,pour egg into pan,add mushrooms,"
        "add cheese,add ham,fold omelette,put omelette on plate",
    ),
    (
        "Make Cinnamon Toast",
        "Make French Toast",
        "slice bread,toast bread,spread butter,mix sugar and cinnamon,sprinkle sugar on bread,"
        "put bread in oven",
    ),
    (
        "Make an Egg Sandwich",
        "Make French Toast",
        "fry egg,cook bacon,toast bread,spread butter,add cheese,add avocado,put egg on bread,"
        "cut sandwich,wrap sandwich",
    ),
    # Jack Up Car / Change a Tire
    (
        "Change Brake Pads",
        "Change a Tire",
        "loosen lug nuts,raise jack,remove wheel,remove caliper,remove brake pads,compress piston,"
        "insert brake pads,put on caliper,put on wheel,lower jack,pump brake pedal",
    ),
    (
        "Rotate Tires",
        "Change a Tire",
        "mark tires,loosen lug nuts,raise jack,remove wheel,check tread,swap wheels,put on wheel,"
        "tighten lug nuts,lower jack",
    ),
    (
        "Patch a Tire",
        "Change a Tire",
        "remove wheel,locate puncture,remove nail,ream hole,insert plug,cut plug,inflate tire,"
        "check pressure,mount wheel",
    ),
    (
        "Check Tire Pressure",
        "Jack Up Car",
        "check sidewall,remove valve cap,attach gauge,read pressure,add air,inflate tire,"
        "replace valve cap",
    ),
    (
        "Use Jack Stands",
        "Jack Up Car",
        "put brake on,chock wheels,find jack point,put jack under car,raise jack,"
        "put stands under car,lower jack onto stands",
    ),
    # Add Oil to Your Car
    (
        "Change Engine Oil",
        "Add Oil to Your Car",
        "warm engine,raise car,place drain pan,remove drain plug,drain oil,replace drain plug,"
        "remove oil filter,lubricate gasket,install oil filter,pour oil,check oil level",
    ),
    (
        "Add Coolant",
        "Add Oil to Your Car",
        "open hood,remove radiator cap,mix antifreeze,pour coolant,squeeze hose,check coolant level,"
        "close radiator cap,close hood",
    ),
    (
        "Replace Air Filter",
        "Add Oil to Your Car",
        "open hood,unclip latches,remove filter cover,remove air filter,vacuum housing,"
        "insert air filter,close filter cover,close hood",
    ),
    (
        "Add Brake Fluid",
        "Add Oil to Your Car",
        "open hood,clean reservoir cap,remove reservoir cap,pour brake fluid,wipe reservoir,"
        "close reservoir cap",
    ),
    (
        "Jump Start a Car",
        "Add Oil to Your Car",
        "position cars,open hood,connect red cable,connect black cable,start engine,rev engine,"
        "remove black cable,remove red cable",
    ),
    # Make a Latte / Make Irish Coffee
    (
        "Make Cappuccino",
        "Make a Latte",
        "grind coffee,add coffee,press coffee,pour espresso,steam milk,froth milk,pour milk,add foam,"
        "sprinkle cocoa",
    ),
    (
        "Make Iced Coffee",
        "Make a Latte",
        "freeze coffee cubes,brew coffee,add sugar,add vanilla syrup,pour coffee into glass,add ice,"
        "pour milk,stir mixture",
    ),
    (
        "Make Hot Chocolate",
        "Make a Latte",
        "heat milk,add cocoa powder,add sugar,whisk mixture,pour mixture into mug,add cream,"
        "add marshmallows",
    ),
    (
        "Make Espresso",
        "Make a Latte",
        "preheat cup,grind coffee,fill portafilter,tamp coffee,turn on machine,"
        "pour espresso into cup",
    ),
    (
        "Make a Mocha",
        "Make Irish Coffee",
        "melt chocolate,pour espresso,add chocolate syrup,steam milk,pour milk,stir mixture,"
        "add cream",
    ),
    (
        "Make Eggnog",
        "Make Irish Coffee",
        "separate egg,whisk egg,add sugar,heat milk,pour milk,add rum,grate nutmeg,chill eggnog",
    ),
    (
        "Make a Mojito",
        "Make Irish Coffee",
        "cut lime,add mint,add sugar,muddle mint,add ice,pour rum,pour soda,stir mixture,"
        "garnish with lime wedge",
    ),
    # Build Simple Floating Shelves
    (
        "Build a Bookshelf",
        "Build Simple Floating Shelves",
        "measure wood,cut wood,sand wood,assemble shelf,drill holes,screw boards,attach back panel,"
        "apply stain,paint shelf",
    ),
    (
        "Install a Wall Shelf",
        "Build Simple Floating Shelves",
        "find stud,mark wall,drill holes,insert anchors,attach brackets,level brackets,"
        "screw brackets,put shelf on brackets",
    ),
    (
        "Build a Wooden Box",
        "Build Simple Floating Shelves",
        "measure wood,cut wood,glue boards,clamp boards,nail boards,attach hinges,sand box,"
        "paint box",
    ),
    (
        "Hang a Picture",
        "Build Simple Floating Shelves",
        "attach wire,measure wall,find stud,mark wall,hammer nail,hang picture,level picture",
    ),
    # Grill Steak
    (
        "Grill Chicken",
        "Grill Steak",
        "marinate chicken,season chicken,oil grill,put chicken on grill,flip chicken,brush sauce,"
        "check temperature,take chicken from grill",
    ),
    (
        "Grill Burgers",
        "Grill Steak",
        "shape patty,season patty,put patty on grill,flip patty,add cheese,toast bun,add lettuce,"
        "add pickles,put patty on bun",
    ),
    (
        "Cook Steak in a Pan",
        "Grill Steak",
        "season steak,heat pan,add oil to pan,put steak in pan,flip steak,add butter,add rosemary,"
        "add thyme,baste steak,rest steak,cut steak",
    ),
    (
        "Grill Salmon",
        "Grill Steak",
        "season salmon,brush salmon with oil,oil grill,put salmon on grill,flip salmon,add dill,"
        "squeeze lemon,take salmon from grill",
    ),
    # Make Taco Salad
    (
        "Make Tacos",
        "Make Taco Salad",
        "cook meat,add seasoning,warm tortilla,add meat to tortilla,add lettuce,add tomato,"
        "add cheese,add salsa,chop cilantro,fold taco",
    ),
    (
        "Make Guacamole",
        "Make Taco Salad",
        "cut avocado,pit avocado,scoop avocado,mash avocado,cut onion,cut tomato,chop jalapeno,"
        "add lime juice,add salt,stir mixture",
    ),
    (
        "Make Caesar Salad",
        "Make Taco Salad",
        "cut lettuce,toast bread,cut bread,whisk dressing,add anchovies,add dressing,"
        "grate parmesan,add croutons,toss salad",
    ),
    (
        "Make Nachos",
        "Make Taco Salad",
        "put chips on tray,add beans,add meat,add cheese,put tray into oven,add salsa,"
        "add jalapenos,add olives,add sour cream",
    ),
    # Make Strawberry Cake
    (
        "Make Chocolate Cake",
        "Make Strawberry Cake",
        "grease pan,sift flour,add cocoa powder,add sugar,add egg,whisk mixture,"
        "pour mixture into pan,put pan into oven,cool cake,spread frosting",
    ),
    (
        "Make Cupcakes",
        "Make Strawberry Cake",
        "line tray with liners,add butter,add sugar,add egg,add flour,whisk mixture,"
        "pour mixture into cups,put tray into oven,pipe frosting,add sprinkles",
    ),
    (
        "Make Strawberry Shortcake",
        "Make Strawberry Cake",
        "bake biscuits,cut strawberries,add sugar,whip cream,slice biscuits,add strawberries,"
        "add cream",
    ),
    (
        "Make Banana Bread",
        "Make Banana Ice Cream",
        "mash bananas,add butter,add sugar,add egg,add flour,add baking soda,add walnuts,"
        "stir mixture,pour mixture into pan,put pan into oven,cool bread",
    ),
    # Make Meringue
    (
        "Make Macarons",
        "Make Meringue",
        "sift almond flour,separate egg,whisk egg,add sugar,add food coloring,fold almond flour,"
        "pipe mixture onto tray,tap tray,put tray into oven,fill macarons",
    ),
    (
        "Make Whipped Cream",
        "Make Meringue",
        "chill bowl,pour cream into bowl,add sugar,add vanilla,whisk cream",
    ),
    (
        "Make a Pavlova",
        "Make Meringue",
        "separate egg,whisk egg,add sugar,add cornstarch,spoon mixture onto tray,"
        "put tray into oven,whip cream,spread cream,add fruit,add kiwi",
    ),
    # Make Fish Curry
    (
        "Make Chicken Curry",
        "Make Fish Curry",
        "cut chicken,add oil to pan,add onion,add garlic,add spices,add chicken,add tomato,"
        "add yogurt,add water,add coconut milk,add cilantro",
    ),
    (
        "Fry Fish",
        "Make Fish Curry",
        "season fish,dip fish in flour,dip fish in egg,mix breadcrumbs,heat oil,put fish in oil,"
        "flip fish,take fish from pan,drain fish on towel",
    ),
    (
        "Make Curry Paste",
        "Make Fish Curry",
        "toast seeds,peel garlic,cut ginger,add lemongrass,add chili,add garlic,add ginger,"
        "add shrimp paste,add onion,blend mixture",
    ),
    # Make Kimchi Fried Rice
    (
        "Make Fried Rice",
        "Make Kimchi Fried Rice",
        "cook rice,add oil to pan,fry egg,add carrots,add peas,add rice,pour soy sauce,"
        "add green onions,stir mixture",
    ),
    (
        "Make Kimchi",
        "Make Kimchi Fried Rice",
        "cut cabbage,add salt to cabbage,rinse cabbage,add radish,add fish sauce,mix chili paste,"
        "spread paste on cabbage,put cabbage in jar",
    ),
    (
        "Make Bibimbap",
        "Make Kimchi Fried Rice",
        "cook rice,cut vegetables,fry vegetables,add spinach,fry egg,put rice in bowl,"
        "add vegetables,add egg,add sesame seeds,add chili paste",
    ),
    # Pickle Cucumbers
    (
        "Make Bread and Butter Pickles",
        "Pickle Cucumbers",
        "cut cucumbers,cut onion,add salt,boil vinegar,add sugar,add mustard seeds,add turmeric,"
        "put cucumbers in jar,pour mixture into jar,close lid",
    ),
    (
        "Make Pickled Onions",
        "Pickle Cucumbers",
        "cut onion,put onion in jar,boil vinegar,add sugar,add salt,add peppercorns,"
        "pour mixture into jar,close lid",
    ),
    (
        "Make Sauerkraut",
        "Pickle Cucumbers",
        "cut cabbage,add salt,massage cabbage,add caraway seeds,put cabbage in jar,press cabbage,"
        "weigh down cabbage,cover jar",
    ),
    # Make Banana Ice Cream
    (
        "Make a Smoothie",
        "Make Banana Ice Cream",
        "peel banana,cut banana,add strawberries,add spinach,add yogurt,add honey,pour milk,"
        "put fruit in blender,blend mixture,pour smoothie into glass",
    ),
    (
        "Make a Milkshake",
        "Make Banana Ice Cream",
        "add ice cream,pour milk,add syrup,add malt powder,blend mixture,pour milkshake into glass,"
        "add whipped cream",
    ),
    (
        "Make Frozen Yogurt",
        "Make Banana Ice Cream",
        "add yogurt,add fruit,add honey,blend mixture,put mixture in freezer,stir mixture,"
        "scoop frozen yogurt",
    ),
    (
        "Make Ice Cream",
        "Make Banana Ice Cream",
        "whip cream,add condensed milk,add vanilla,add cookies,fold mixture,churn mixture,"
        "put mixture in freezer,scoop ice cream",
    ),
    (
        "Make a Banana Split",
        "Make Banana Ice Cream",
        "peel banana,cut banana,put banana in bowl,add ice cream,add chocolate syrup,"
        "add whipped cream,add nuts,add sprinkles,add cherry",
    ),
)


def _related_tasks() -> tuple[TaskSpec, ...]:
    # Fixed numeric ids (not seed dependent), distinct from the primary ones.
    used = {t.task_id for t in PRIMARY_TASKS}
    out = []
    for index, (title, primary, steps) in enumerate(_RELATED):
        number = 10_000 + (index * 7919 + 1543) % 110_000
        while str(number) in used:
            number += 1
        used.add(str(number))
        out.append(TaskSpec(str(number), title, tuple(steps.split(",")), related_to=primary))
    return tuple(out)


#: The 65 related tasks (30 videos each in the ``full`` world; not annotated).
RELATED_TASKS: tuple[TaskSpec, ...] = _related_tasks()

#: Function words: not components (they carry no appearance).
STOPWORDS: frozenset[str] = frozenset(
    "a an the in into on onto from to of and with up out off for at".split()
)

# Words ending in "s" that are not plurals.
_NOT_PLURAL = frozenset({"glass", "press", "pressure", "hummus", "molasses", "gas", "asparagus"})
_IRREGULAR = {"cookies": "cookie"}


def tokens(text: str) -> list[str]:
    """Lower-case word tokens of a step text or sentence (letters, digits and apostrophes)."""
    return re.findall(r"[a-z0-9']+", text.lower())


def _singular(word: str) -> str:
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word in _NOT_PLURAL or len(word) <= 3 or word.endswith(("ss", "us")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def components(step: str) -> tuple[str, ...]:
    """The components of a step text: its content words, singular, in order, without repeats.

    >>> components("put bananas in blender")
    ('put', 'banana', 'blender')
    """
    out: list[str] = []
    for word in tokens(step):
        if word in STOPWORDS:
            continue
        key = _singular(word)
        if key not in out:
            out.append(key)
    return tuple(out)


# ------------------------------------------------------------------------------------------
# Narration (ASR-like: lower case, no punctuation)

#: How a step is announced. ``{s}`` is the step phrase (its words, sometimes with "the").
MENTION_TEMPLATES: tuple[str, ...] = (
    "now we are going to {s}",
    "next you want to {s}",
    "so i'm just gonna {s}",
    "the next step is to {s}",
    "okay now {s}",
    "and then we {s}",
    "go ahead and {s}",
    "what you want to do is {s}",
    "after that {s}",
    "first thing i do is {s}",
    "i'm going to {s} right now",
    "let's {s}",
)

#: Mentions of steps that are not happening now (missing or out of order).
SPURIOUS_TEMPLATES: tuple[str, ...] = (
    "you could also {s} if you want",
    "later on we will {s}",
    "some people like to {s}",
    "before that i already had to {s}",
    "don't forget to {s} at the end",
    "if you like you can {s}",
)

#: Said at the start of a video. ``{t}`` is the task title in lower case.
INTRO_SENTENCES: tuple[str, ...] = (
    "hi guys welcome back to my channel",
    "hey everyone",
    "today i'm going to show you how to {t}",
    "in this video we are going to {t}",
    "this is a really easy recipe",
    "so let's get started",
    "make sure you subscribe",
)

#: Said at the end of a video.
OUTRO_SENTENCES: tuple[str, ...] = (
    "and that's it",
    "thanks for watching",
    "don't forget to like and subscribe",
    "see you next time",
    "let me know in the comments what you think",
    "bye",
)

#: Talk that mentions no step.
FILLER_SENTENCES: tuple[str, ...] = (
    "this is really simple",
    "as you can see",
    "let me show you",
    "just like that",
    "it's super easy",
    "you can see it right here",
    "make sure you don't skip this part",
    "let it sit for a minute",
    "that's looking really good",
    "i like to use this one",
    "you don't need a lot",
    "be careful with this",
    "this is my favorite part",
    "it doesn't have to be perfect",
    "okay",
    "so yeah",
    "perfect",
    "there we go",
    "i'll leave a link in the description",
    "this one is from the store",
    "you can use whatever you have",
    "take your time",
    "it smells amazing",
    "that's about it for this part",
)
