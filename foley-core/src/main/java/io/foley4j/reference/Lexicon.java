package io.foley4j.reference;

import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The reference model's vocabulary: words whose sound is bright/high (pitch +1), dark/low (pitch −1),
 * and a few hundred common Foley and English words (pitch 0). Every word here becomes one token of
 * the reference tokenizer, with and without the leading space marker.
 */
final class Lexicon {
  private Lexicon() {}

  static final String[] HIGH = {
    "glass", "breaking", "break", "breaks", "shatter", "shatters", "shattering", "bell", "bells", "chime",
    "chimes", "whistle", "whistling", "bird", "birds", "chirp", "chirping", "metal", "metallic", "clink",
    "clinking", "squeak", "squeaking", "sizzle", "sizzling", "high", "bright", "tap", "tapping", "click",
    "clicking", "coins", "coin", "keys", "jingle", "tinkle", "ring", "ringing", "cymbal", "hiss"
  };

  static final String[] LOW = {
    "thunder", "rumble", "rumbling", "low", "drum", "drums", "bass", "explosion", "explosions", "boom",
    "booming", "engine", "engines", "earthquake", "thud", "thuds", "heavy", "deep", "growl", "growling",
    "ocean", "waves", "truck", "trucks", "roar", "roaring", "avalanche", "cannon", "gong", "tuba"
  };

  static final String[] COMMON = {
    "a", "an", "the", "of", "and", "or", "in", "on", "at", "with", "without", "by", "from", "to", "into",
    "onto", "over", "under", "through", "is", "are", "was", "be", "it", "its", "this", "that", "some",
    "no", "not", "very", "soft", "loud", "quiet", "quietly", "loudly", "gentle", "sharp", "dull", "noisy",
    "harsh", "clean", "clear", "distant", "close", "near", "far", "small", "large", "big", "little",
    "fast", "slow", "slowly", "quickly", "sound", "sounds", "noise", "audio", "music", "silence", "silent",
    "footsteps", "footstep", "steps", "walking", "running", "walk", "run", "jump", "jumping", "gravel",
    "grass", "sand", "snow", "mud", "wood", "wooden", "floor", "stone", "concrete", "door", "doors",
    "knock", "knocking", "slam", "slamming", "open", "opening", "close", "closing", "creak", "creaking",
    "window", "water", "splash", "splashing", "rain", "raining", "drip", "dripping", "pour", "pouring",
    "river", "stream", "wind", "windy", "storm", "fire", "crackling", "crackle", "burning", "car", "cars",
    "motor", "traffic", "horn", "train", "plane", "airplane", "helicopter", "bike", "bicycle", "tire",
    "tires", "brakes", "crash", "crashing", "hit", "hitting", "hits", "impact", "punch", "punching",
    "kick", "kicking", "slap", "clap", "clapping", "applause", "crowd", "people", "talking", "voice",
    "voices", "speech", "laugh", "laughing", "baby", "crying", "dog", "dogs", "barking", "bark", "cat",
    "cats", "meow", "horse", "horses", "hooves", "cow", "chicken", "duck", "insects", "crickets", "bees",
    "buzz", "buzzing", "frog", "owl", "animal", "animals", "paper", "rustle", "rustling", "leaves",
    "cloth", "fabric", "zipper", "plastic", "bag", "box", "cardboard", "bottle", "cup", "plate", "plates",
    "dishes", "spoon", "knife", "fork", "cutting", "chopping", "cooking", "frying", "pan", "kitchen",
    "eating", "chewing", "drinking", "typing", "keyboard", "mouse", "phone", "computer", "machine",
    "machinery", "tool", "tools", "hammer", "hammering", "saw", "sawing", "drill", "drilling", "scrape",
    "scraping", "scratch", "scratching", "rub", "rubbing", "roll", "rolling", "ball", "bounce",
    "bouncing", "throw", "falling", "fall", "drop", "dropping", "dropped", "pop", "popping", "snap",
    "swish", "whoosh", "swoosh", "sword", "gun", "gunshot", "shot", "shots", "fireworks", "city",
    "street", "forest", "beach", "room", "indoor", "outdoor", "ambience", "background", "foreground",
    "guitar", "piano", "violin", "song", "singing", "sing", "beat", "rhythm", "tick", "ticking", "clock",
    "alarm", "siren", "beep", "beeping", "electric", "electronic", "static", "hum", "humming", "wet",
    "dry", "hard", "rough", "smooth", "man", "woman", "child", "children", "someone", "person", "hand",
    "hands", "feet", "shoes", "boots", "heels", "sneakers", "table", "chair", "bed", "wall", "ground",
    "road", "ice", "skating", "ski", "swimming", "boat", "ship", "sea", "lake", "pond", "rock", "rocks",
    "bubble", "bubbles", "boiling", "steam", "air", "breath", "breathing", "sigh", "cough", "sneeze",
    "snoring", "whisper", "shout", "scream", "yell", "cheering", "sports", "game", "video", "scene",
    "movie", "film", "foley", "effect", "effects", "realistic", "natural", "synchronized", "short", "long",
    "single", "multiple", "many", "few", "one", "two", "three", "again", "then", "while", "as", "for",
    "up", "down", "out", "off", "away", "back", "against", "together", "quality", "bad",
    "good", "distorted", "muffled", "echo", "reverb", "mono", "stereo"
  };

  /** Word → pitch (+1 high, −1 low, 0 neutral) for every lexicon word, sorted. */
  static final Map<String, Integer> PITCH;

  /** Every lexicon word, sorted. */
  static final Set<String> WORDS;

  static {
    TreeMap<String, Integer> pitch = new TreeMap<>();
    for (String w : COMMON) {
      pitch.put(w, 0);
    }
    for (String w : HIGH) {
      pitch.put(w, 1);
    }
    for (String w : LOW) {
      pitch.put(w, -1);
    }
    PITCH = Collections.unmodifiableMap(pitch);
    WORDS = Collections.unmodifiableSet(new TreeSet<>(pitch.keySet()));
  }
}
