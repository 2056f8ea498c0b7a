"""The knowledge base: reviewed clinical data files, their schema and their loader."""

from .loader import DATA_DIR, Compiled, KnowledgeBase, RuleFamilies, load_knowledge_base

__all__ = ["DATA_DIR", "Compiled", "KnowledgeBase", "RuleFamilies", "load_knowledge_base"]
